import React, { useCallback, useEffect, useRef, useState } from 'react';

/** Props of {@link VirtualList}. */
export interface IVirtualListProps<T> {
  items: T[];
  /** The height of every row in pixels. */
  rowHeight: number;
  /** The row's React key. */
  itemKey: (item: T) => string;
  renderItem: (item: T, index: number) => JSX.Element;
  /** Called when the user scrolls near the end (to load more). */
  onEndReached?: () => void;
  /** Rows rendered above and below the visible ones. */
  overscan?: number;
  /** The height assumed before the container is measured (tests, first paint). */
  initialHeight?: number;
  label: string;
  className?: string;
}

/**
 * A list that renders only the rows in view (plus a few), so thousands of runs scroll smoothly.
 * Rows have a fixed height; the list is a `role="list"` whose rows are `role="listitem"`. Arrow keys, Page Up/Down,
 * Home and End move the focus between rows (rows not rendered yet are scrolled into view first).
 */
export function VirtualList<T>(props: IVirtualListProps<T>): JSX.Element {
  const { items, rowHeight, onEndReached } = props;
  const overscan = props.overscan ?? 6;
  const container = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(props.initialHeight ?? 600);

  useEffect(() => {
    const node = container.current;
    if (!node) {
      return;
    }
    const measure = () => {
      if (node.clientHeight > 0) {
        setHeight(node.clientHeight);
      }
    };
    measure();
    if (typeof ResizeObserver === 'undefined') {
      return;
    }
    const observer = new ResizeObserver(measure);
    observer.observe(node);
    return () => observer.disconnect();
  }, []);

  const total = items.length * rowHeight;
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const last = Math.min(
    items.length,
    Math.ceil((scrollTop + height) / rowHeight) + overscan
  );

  useEffect(() => {
    if (onEndReached && items.length > 0 && last >= items.length - overscan) {
      onEndReached();
    }
  }, [last, items.length, onEndReached, overscan]);

  const onScroll = useCallback((event: React.UIEvent<HTMLDivElement>) => {
    setScrollTop(event.currentTarget.scrollTop);
  }, []);

  // Arrow keys, Home and End move the focus between rows, scrolling rows that are not rendered into view.
  const [focusIndex, setFocusIndex] = useState<number | null>(null);
  const onKeyDown = (event: React.KeyboardEvent<HTMLDivElement>) => {
    const row = (event.target as HTMLElement).closest('[data-index]');
    const node = container.current;
    if (!row || !node) {
      return;
    }
    const index = Number(row.getAttribute('data-index'));
    const moves: Record<string, number> = {
      ArrowDown: index + 1,
      ArrowUp: index - 1,
      Home: 0,
      End: items.length - 1,
      PageDown: index + Math.floor(height / rowHeight),
      PageUp: index - Math.floor(height / rowHeight)
    };
    if (!(event.key in moves)) {
      return;
    }
    event.preventDefault();
    const next = Math.max(0, Math.min(items.length - 1, moves[event.key]));
    if (next * rowHeight < node.scrollTop) {
      node.scrollTop = next * rowHeight;
    } else if ((next + 1) * rowHeight > node.scrollTop + height) {
      node.scrollTop = (next + 1) * rowHeight - height;
    }
    setScrollTop(node.scrollTop);
    setFocusIndex(next);
  };

  useEffect(() => {
    if (focusIndex === null) {
      return;
    }
    const target = container.current?.querySelector<HTMLElement>(
      `[data-index="${focusIndex}"] button, [data-index="${focusIndex}"] [tabindex]`
    );
    target?.focus();
  }, [focusIndex, first, last]);

  const rows: JSX.Element[] = [];
  for (let index = first; index < last; index++) {
    const item = items[index];
    rows.push(
      <div
        key={props.itemKey(item)}
        data-index={index}
        role="listitem"
        className="jp-AignosticsVirtualList-row"
        style={{ top: index * rowHeight, height: rowHeight }}
      >
        {props.renderItem(item, index)}
      </div>
    );
  }
  return (
    <div
      ref={container}
      className={`jp-AignosticsVirtualList ${props.className ?? ''}`}
      onScroll={onScroll}
      onKeyDown={onKeyDown}
      role="list"
      aria-label={props.label}
      data-count={items.length}
    >
      <div
        className="jp-AignosticsVirtualList-spacer"
        style={{ height: total }}
      >
        {rows}
      </div>
    </div>
  );
}
