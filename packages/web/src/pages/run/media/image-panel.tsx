/**
 * One image name of a run: the picture at the chosen step, its caption and a step slider
 * (arrow keys step through). Only the picture in view and its neighbours are fetched, scaled
 * by the server when far wider than a panel; the index of steps came in the page's one request
 * for the run's image records.
 */
import { useEffect, useState } from 'preact/hooks';
import { mark } from '../../../charts/perf-marks.js';
import { formatValue } from '../../../components/format.js';
import { fetchedUrl, pictureUrl } from './image-cache.js';

export const IMAGE_SHOWN = 'larder:image-shown';

export interface ImageRecord {
  _id: string;
  name: string;
  step: number;
  caption?: string;
  width?: number;
  height?: number;
}

/** Twice a panel's width on this screen: pictures known to be wider come scaled by the server. */
const SCALED_ABOVE = Math.min(4096, 1280 * Math.ceil(globalThis.devicePixelRatio || 1));
const PANEL_WIDTH = SCALED_ABOVE / 2;
// Scaling costs the server a decode and an encode per request, more than sending a picture of
// a few megabytes costs on a fast link, so only pictures far wider than a panel are scaled.
const fileOf = (image: ImageRecord) =>
  `/run-images/${encodeURIComponent(image._id)}/file${(image.width ?? 0) > SCALED_ABOVE ? `?width=${PANEL_WIDTH}` : ''}`;

export function ImagePanel({ name, images }: { name: string; images: readonly ImageRecord[] }) {
  // null follows the latest step as more arrive; moving the slider holds a step.
  const [index, setIndex] = useState<number | null>(null);
  const [shown, setShown] = useState<{ id: string; url: string; step: number } | null>(null);
  const [failed, setFailed] = useState<string | null>(null);
  const at = index === null ? images.length - 1 : Math.min(Math.max(0, index), images.length - 1);
  const image = images[at];

  // A picture fetched before is drawn in this very render; others when they arrive.
  const ready = image ? fetchedUrl(fileOf(image)) : undefined;

  useEffect(() => {
    if (!image) return;
    let current = true;
    const asked = performance.now();
    if (ready) {
      requestAnimationFrame(() => mark(IMAGE_SHOWN, { name, step: image.step, ms: performance.now() - asked }));
    }
    pictureUrl(fileOf(image)).then(
      (url) => {
        if (!current) return;
        setShown({ id: image._id, url, step: image.step });
        setFailed(null);
        if (!ready) {
          requestAnimationFrame(() => mark(IMAGE_SHOWN, { name, step: image.step, ms: performance.now() - asked }));
        }
      },
      () => current && setFailed(image._id),
    );
    // The neighbours, so the next move of the slider finds them fetched.
    for (const near of [images[at + 1], images[at - 1]]) if (near) void pictureUrl(fileOf(near)).catch(() => {});
    return () => {
      current = false;
    };
  }, [image?._id]);

  if (!image) return null;
  const picture = ready ? { id: image._id, url: ready, step: image.step } : shown;
  const first = images[0]?.step ?? 0;
  const last = images.at(-1)?.step ?? 0;
  return (
    <figure class="chart-card image-panel" data-image-name={name}>
      <figcaption>
        {name}
        <span class="legend">
          step {formatValue(image.step)} ({at + 1} of {images.length})
        </span>
      </figcaption>
      <div class="image-frame">
        {failed === image._id ? (
          <span class="image-missing">
            {name} at step {formatValue(image.step)}: not available
          </span>
        ) : picture ? (
          <img
            src={picture.url}
            alt={`${name} at step ${formatValue(picture.step)}`}
            class={picture.id === image._id ? '' : 'stale'}
            data-step={picture.step}
            decoding="async"
          />
        ) : (
          <span class="image-loading" aria-busy="true" />
        )}
      </div>
      <p class="image-caption">{image.caption ?? ''}</p>
      {images.length > 1 && (
        <label class="step-slider">
          <span class="muted">{formatValue(first)}</span>
          <input
            type="range"
            min={0}
            max={images.length - 1}
            value={at}
            aria-label={`Step of ${name}`}
            onInput={(event) => {
              const chosen = Number(event.currentTarget.value);
              setIndex(chosen === images.length - 1 ? null : chosen);
            }}
          />
          <span class="muted">{formatValue(last)}</span>
        </label>
      )}
    </figure>
  );
}
