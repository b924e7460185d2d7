import React, { useEffect, useRef, useState } from 'react';

import { BucketModel, parentPrefix } from '../model/bucket';
import { formatBytes, formatTime } from '../model/format';
import { errorText } from '../model/session';
import { IBucketObject } from '../types';
import { IUiServices } from './ui';
import { useModel } from './useModel';

/** The MIME type of JupyterLab file browser drags (a list of paths). */
export const CONTENTS_MIME = 'application/x-jupyter-icontents';

/** The part of a Lumino drag event the drop zone reads. */
interface ILuminoDragEvent extends Event {
  mimeData: { hasData(mime: string): boolean; getData(mime: string): unknown };
  dropAction: string;
  proposedAction: string;
}

/** Props of {@link BucketView}. */
export interface IBucketViewProps {
  model: BucketModel;
  ui: IUiServices;
  /** Workspace files selected in the file browser (for the Upload button). */
  selectedFiles: () => string[];
}

/** Accept drags of files from the JupyterLab file browser onto `node`. */
function useFileDrop(
  node: React.RefObject<HTMLElement>,
  onDrop: (paths: string[]) => void,
  setOver: (over: boolean) => void
): void {
  useEffect(() => {
    const element = node.current;
    if (!element) {
      return;
    }
    const handle = (event: Event) => {
      const drag = event as ILuminoDragEvent;
      if (!drag.mimeData?.hasData(CONTENTS_MIME)) {
        return;
      }
      event.preventDefault();
      event.stopPropagation();
      // The file browser offers only 'move'; accepting it is safe (the source does nothing when the drop ends),
      // and the file is uploaded, not moved.
      const accepted =
        drag.proposedAction === 'none' ? 'copy' : drag.proposedAction;
      if (event.type === 'lm-dragenter' || event.type === 'lm-dragover') {
        drag.dropAction = accepted;
        setOver(true);
      } else if (event.type === 'lm-dragleave') {
        setOver(false);
      } else if (event.type === 'lm-drop') {
        setOver(false);
        drag.dropAction = accepted;
        const paths = drag.mimeData.getData(CONTENTS_MIME);
        if (Array.isArray(paths)) {
          onDrop(paths.map(String));
        }
      }
    };
    const types = ['lm-dragenter', 'lm-dragover', 'lm-dragleave', 'lm-drop'];
    types.forEach(type => element.addEventListener(type, handle));
    return () =>
      types.forEach(type => element.removeEventListener(type, handle));
  }, [node, onDrop, setOver]);
}

/** The organization bucket: folders, objects, upload (button, drop), download, copy signed URL, delete. */
export function BucketView(props: IBucketViewProps): JSX.Element {
  const { model, ui } = props;
  const state = useModel(model);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [over, setOver] = useState(false);
  const zone = useRef<HTMLElement>(null);

  useEffect(() => {
    void model.open();
  }, [model]);
  useEffect(() => setSelected(new Set()), [state.prefix]);

  const upload = async (paths: string[]) => {
    const files = paths.map(path => path.replace(/^[^/:]+:/, ''));
    if (files.length === 0) {
      ui.notify('info', 'Select files in the file browser first.');
      return;
    }
    try {
      const keys = await model.upload(files);
      ui.notify('success', `Uploaded ${keys.join(', ')}.`);
    } catch (reason) {
      ui.notify('error', errorText(reason));
    }
  };
  const uploadRef = useRef(upload);
  uploadRef.current = upload;
  const onDrop = React.useCallback(
    (paths: string[]) => void uploadRef.current(paths),
    []
  );
  useFileDrop(zone, onDrop, setOver);

  const download = async (object: IBucketObject) => {
    const folder = ui.currentFolder();
    try {
      const path = await model.download(object.key, folder);
      ui.notify('success', `Downloaded ${object.name} to ${path}.`);
    } catch (reason) {
      ui.notify('error', errorText(reason));
    }
  };

  const copyUrl = async (object: IBucketObject) => {
    try {
      ui.copy(await model.sign(object.key));
      ui.notify(
        'success',
        `A signed URL of ${object.name} (valid 7 days) was copied.`
      );
    } catch (reason) {
      ui.notify('error', errorText(reason));
    }
  };

  const remove = async (keys: string[]) => {
    const shown = keys.length === 1 ? keys[0] : `${keys.length} objects`;
    const ok = await ui.confirm(
      'Delete from the bucket?',
      `Delete ${shown}? This cannot be undone.`,
      'Delete'
    );
    if (!ok) {
      return;
    }
    try {
      await model.remove(keys);
      setSelected(new Set());
      ui.notify('success', `Deleted ${shown}.`);
    } catch (reason) {
      ui.notify('error', errorText(reason));
    }
  };

  const toggle = (key: string) => {
    const next = new Set(selected);
    if (next.has(key)) {
      next.delete(key);
    } else {
      next.add(key);
    }
    setSelected(next);
  };

  const listing = state.listing;
  const crumbs = state.prefix.split('/').filter(Boolean);
  return (
    <section
      ref={zone}
      className="jp-AignosticsBucket"
      data-drop-over={over ? 'true' : 'false'}
      aria-label="Bucket"
    >
      <nav className="jp-AignosticsBreadcrumbs" aria-label="Bucket folders">
        <button
          className="jp-AignosticsLinkButton"
          onClick={() => void model.open('')}
        >
          {listing?.bucket ?? 'bucket'}
        </button>
        {crumbs.map((crumb, index) => (
          <React.Fragment key={index}>
            <span>/</span>
            <button
              className="jp-AignosticsLinkButton"
              onClick={() =>
                void model.open(`${crumbs.slice(0, index + 1).join('/')}/`)
              }
            >
              {crumb}
            </button>
          </React.Fragment>
        ))}
      </nav>
      <div
        className="jp-AignosticsActions"
        role="toolbar"
        aria-label="Bucket actions"
      >
        <button
          className="jp-mod-styled jp-mod-accept"
          onClick={() => void upload(props.selectedFiles())}
          title="Upload the files selected in the file browser into this folder"
        >
          Upload selected files
        </button>
        <button
          className="jp-mod-styled jp-mod-warn"
          disabled={selected.size === 0}
          onClick={() => void remove([...selected])}
        >
          Delete selected
        </button>
        <button
          className="jp-AignosticsLinkButton"
          onClick={() => void model.open()}
          aria-label="Refresh the bucket"
        >
          Refresh
        </button>
      </div>
      <p className="jp-AignosticsDropHint jp-AignosticsMuted">
        Drop files from the file browser here to upload them into{' '}
        <code>{state.prefix || '/'}</code>.
      </p>
      {state.uploading.length > 0 && (
        <p role="status">Uploading {state.uploading.join(', ')}…</p>
      )}
      {state.error && (
        <p className="jp-AignosticsError" role="alert">
          {state.error}
        </p>
      )}
      <ul className="jp-AignosticsObjects" aria-label="Objects">
        {state.prefix && (
          <li className="jp-AignosticsObject">
            <button
              className="jp-AignosticsLinkButton"
              onClick={() => void model.open(parentPrefix(state.prefix))}
              aria-label="Up one folder"
            >
              ..
            </button>
          </li>
        )}
        {listing?.folders.map(folder => (
          <li
            key={folder.prefix}
            className="jp-AignosticsObject"
            data-folder={folder.prefix}
          >
            <button
              className="jp-AignosticsLinkButton jp-AignosticsObject-name"
              data-folder="true"
              onClick={() => void model.open(folder.prefix)}
              aria-label={`Open folder ${folder.name}`}
            >
              {folder.name}/
            </button>
            <span className="jp-AignosticsMuted">
              {folder.objects} · {formatBytes(folder.size)}
            </span>
          </li>
        ))}
        {listing?.objects.map(object => (
          <li
            key={object.key}
            className="jp-AignosticsObject"
            data-key={object.key}
          >
            <input
              type="checkbox"
              checked={selected.has(object.key)}
              onChange={() => toggle(object.key)}
              aria-label={`Select ${object.name}`}
            />
            <span className="jp-AignosticsObject-name" title={object.key}>
              {object.name}
            </span>
            <span className="jp-AignosticsMuted">
              {formatBytes(object.size)} · {formatTime(object.last_modified)}
            </span>
            <span className="jp-AignosticsObject-actions">
              <button
                className="jp-AignosticsLinkButton"
                onClick={() => void download(object)}
                aria-label={`Download ${object.name} into the current folder`}
              >
                Download
              </button>
              <button
                className="jp-AignosticsLinkButton"
                onClick={() => void copyUrl(object)}
                aria-label={`Copy a signed URL of ${object.name}`}
              >
                Copy URL
              </button>
              <button
                className="jp-AignosticsLinkButton jp-AignosticsDanger"
                onClick={() => void remove([object.key])}
                aria-label={`Delete ${object.name}`}
              >
                Delete
              </button>
            </span>
          </li>
        ))}
      </ul>
      {listing &&
        listing.folders.length === 0 &&
        listing.objects.length === 0 && (
          <p className="jp-AignosticsMuted">This folder is empty.</p>
        )}
    </section>
  );
}
