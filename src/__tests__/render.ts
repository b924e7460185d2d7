import React from 'react';
import { createRoot, Root } from 'react-dom/client';

import { IUiServices } from '../components/ui';
import { flush } from './fixtures';

(
  globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }
).IS_REACT_ACT_ENVIRONMENT = true;

/** A rendered component: its container, and a way to unmount it. */
export interface IRendered {
  container: HTMLElement;
  unmount(): void;
}

const mounted: Root[] = [];

/** Render `element` into a fresh container and let effects and promises settle. */
export async function render(element: React.ReactElement): Promise<IRendered> {
  const container = document.createElement('div');
  document.body.appendChild(container);
  const root = createRoot(container);
  mounted.push(root);
  await React.act(async () => {
    root.render(element);
    await flush();
  });
  return {
    container,
    unmount: () => React.act(() => root.unmount())
  };
}

/** Run `action` (clicks, typing) inside act and let promises settle. */
export async function act(action: () => void | Promise<void>): Promise<void> {
  await React.act(async () => {
    await action();
    await flush();
  });
}

/** Click an element. */
export async function click(element: Element | null): Promise<void> {
  if (!element) {
    throw new Error('nothing to click');
  }
  await act(() => {
    (element as HTMLElement).click();
  });
}

/** The first button whose text is `text`. */
export function button(
  container: HTMLElement,
  text: string
): HTMLButtonElement {
  const found = [...container.querySelectorAll('button')].find(
    b => b.textContent?.trim() === text
  );
  if (!found) {
    throw new Error(`no button "${text}"`);
  }
  return found;
}

/** Fake JupyterLab services that record what they were asked. */
export function fakeUi(confirmAnswer = true): IUiServices & {
  notes: [string, string][];
  copied: string[];
  revealed: string[];
  confirms: string[];
  opened: string[];
} {
  const ui = {
    notes: [] as [string, string][],
    copied: [] as string[],
    revealed: [] as string[],
    confirms: [] as string[],
    opened: [] as string[],
    confirm: async (title: string) => {
      ui.confirms.push(title);
      return confirmAnswer;
    },
    notify: (kind: string, message: string) => ui.notes.push([kind, message]),
    copy: (text: string) => ui.copied.push(text),
    openInNotebook: async (run: { run_id: string }) => {
      ui.opened.push(run.run_id);
    },
    currentFolder: () => 'notebooks',
    reveal: (path: string) => ui.revealed.push(path)
  };
  return ui;
}

afterEach(() => {
  while (mounted.length) {
    const root = mounted.pop();
    React.act(() => root?.unmount());
  }
  document.body.innerHTML = '';
});
