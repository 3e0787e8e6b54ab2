/** The configuration pipeline: settings described once (setting.ts), parsed alike (parsers.ts), resolved in the consumer's mode (resolve.ts). */
export * from './parsers';
export * from './setting';
export * from './resolve';
