/**
 * The PromQL identifier extractor the name checks rely on: it must find metric and label names,
 * skip functions, keywords, strings and durations, and make a typo visible.
 */
import { describe, expect, it } from 'vitest';
import { PromqlSyntaxError, checkNames, extractPromql, substituteGrafanaVariables } from './lib/promql';
import { knownNames } from './lib/rules';

describe('PromQL identifier extractor', () => {
  it('finds metrics and labels, not functions, keywords, strings or durations', () => {
    const refs = extractPromql(`
      histogram_quantile(0.95,
        sum by (le, http_route) (rate(chatbot_stream_time_to_first_token_bucket{service_name=~"chat.*", http_route!="/healthz"}[5m] offset 1h))
      ) > bool 1
      and on (service_name) group_left (instance)
      (sum without (cpu_mode) (rate(process_cpu_time_total[5m:1m])) * 0 + 0x1F)
      or label_replace(up{job="chatbot"}, "not_a_label", "$1", "instance", "(.*)")  # comment mentioning fake_metric
      unless avg_over_time(service:chatbot_stream_success:ratio_rate5m[1h30m]) < -Inf
    `);
    expect([...refs.metrics].sort()).toEqual([
      'chatbot_stream_time_to_first_token_bucket',
      'process_cpu_time_total',
      'service:chatbot_stream_success:ratio_rate5m',
      'up',
    ]);
    expect([...refs.labels].sort()).toEqual(['cpu_mode', 'http_route', 'instance', 'job', 'le', 'service_name']);
    expect([...refs.functions].sort()).toEqual(['avg_over_time', 'histogram_quantile', 'label_replace', 'rate', 'sum']);
    expect(refs.selectors).toContainEqual({ metric: 'chatbot_stream_time_to_first_token_bucket', labels: ['service_name', 'http_route'] });
  });

  it('treats aggregation names as metrics when they are not used as operators', () => {
    // `count` as a metric name is legal PromQL; as an operator it is followed by ( or by/without.
    expect([...extractPromql('count by (job) (count)').metrics]).toEqual(['count']);
  });

  it('reports unknown functions, bad matchers and unbalanced parentheses', () => {
    expect(() => extractPromql('rate_(x[5m])')).toThrow(PromqlSyntaxError);
    expect(() => extractPromql('x{job}')).toThrow(PromqlSyntaxError);
    expect(() => extractPromql('x{job=chatbot}')).toThrow(PromqlSyntaxError);
    expect(() => extractPromql('sum(rate(x[5m])')).toThrow(PromqlSyntaxError);
    expect(() => extractPromql('rate(x[$__rate_interval])')).toThrow(PromqlSyntaxError);
  });

  it('substitutes Grafana variables', () => {
    expect(substituteGrafanaVariables('rate(x{a=~"$service", b=~"${route}"}[$__rate_interval])', { __rate_interval: '1m' })).toBe(
      'rate(x{a=~".*", b=~".*"}[1m])',
    );
  });

  describe('name check against the catalog', () => {
    const known = knownNames();
    const check = { knownMetrics: known.metrics, knownLabels: known.labels, labelsByMetric: known.labelsByMetric };

    it('accepts a correct expression', () => {
      expect(
        checkNames('sum by (http_route) (rate(chatbot_streams_total{chatbot_stream_outcome="failed", service_name=~".*"}[5m]))', check),
      ).toEqual([]);
    });

    it('fails on a misspelt metric name', () => {
      expect(checkNames('sum(rate(chatbot_stream_total[5m]))', check)).toEqual(['unknown metric chatbot_stream_total']);
      expect(checkNames('service:chatbot_stream_sucess:ratio_rate5m < 0.95', check)).toEqual([
        'unknown metric service:chatbot_stream_sucess:ratio_rate5m',
      ]);
    });

    it('fails on a misspelt label in a matcher and in a grouping clause', () => {
      expect(checkNames('rate(chatbot_streams_total{chatbot_stream_outcom="failed"}[5m])', check)).toContain(
        'unknown label chatbot_stream_outcom',
      );
      expect(checkNames('sum by (servce_name) (rate(chatbot_streams_total[5m]))', check)).toEqual(['unknown label servce_name']);
    });

    it('fails on a known label used on a metric that does not carry it', () => {
      // chatbot.errors has only error.type: filtering it by route can never match.
      expect(checkNames('rate(chatbot_errors_total{http_route="/api/chat"}[5m])', check)).toEqual([
        'metric chatbot_errors_total has no label http_route',
      ]);
    });

    it('fails on an unknown function instead of taking it for a metric', () => {
      expect(checkNames('histogram_quantil(0.95, x_bucket)', check)[0]).toMatch(/unknown function histogram_quantil/);
    });
  });
});
