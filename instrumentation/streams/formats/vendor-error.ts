import type { ErrorType } from '../../metrics/catalog';
import { classifyErrorPayload } from '../error-classifier';

/**
 * The class of an error a model API sent in its stream: a documented class when the payload
 * names one (a `timeout`, say), else `llm`, since the model's stream failed.
 */
export function vendorErrorType(data: string): ErrorType {
  const t = classifyErrorPayload(data);
  return t === 'other' ? 'llm' : t;
}
