import type { ChartProps } from 'cdk8s';
import type { FerryConfig } from '../../config/model';

/** What every ferry chart takes: the loaded config, besides cdk8s's own chart props. */
export interface FerryChartProps extends ChartProps {
  /** The loaded and validated config (lib/config/load.ts). */
  readonly config: FerryConfig;
}
