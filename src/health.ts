import { requestAPI } from './request';

/** The status of one component, as reported by `api/health`. */
export interface IComponentStatus {
  status: string;
  message?: string;
  [key: string]: unknown;
}

/** The answer of `GET {base_url}aignostics-jupyter/api/health`. */
export interface IHealth {
  name: string;
  version: string;
  status: string;
  components: Record<string, IComponentStatus>;
}

/** Read the server extension's health report. */
export function fetchHealth(): Promise<IHealth> {
  return requestAPI<IHealth>('api/health');
}

/** Describe one component's details (everything but its status) in one line. */
export function describeComponent(component: IComponentStatus): string {
  return Object.entries(component)
    .filter(([key]) => key !== 'status')
    .map(([key, value]) => `${key}: ${String(value)}`)
    .join(', ');
}
