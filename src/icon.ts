import { LabIcon } from '@jupyterlab/ui-components';

import aignosticsSvg from '../style/icons/aignostics.svg';

/** The product icon, used for the sidebar tab. */
export const aignosticsIcon = new LabIcon({
  name: 'aignostics-jupyter:logo',
  svgstr: aignosticsSvg
});
