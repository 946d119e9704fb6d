/**
 * A picture with its annotations drawn over it in the picture's own pixel coordinates:
 * rectangles, polygons, lines and points, each in its label's colour with the label's name;
 * classifications listed above the picture. Rejected annotations are dashed.
 */
import { AuthImage } from '../../components/auth-image.js';
import type { Annotation, Asset, Label } from './datalake-types.js';

/** Bright colours that stand out on photographs; each stroke also gets a dark outline. */
const ANNOTATION_COLORS = ['#ff3b30', '#ffd60a', '#30d158', '#ff2d95', '#64d2ff', '#ff9f0a', '#bf5af2', '#ffffff'];

function annotationColor(index: number): string {
  return ANNOTATION_COLORS[index % ANNOTATION_COLORS.length] as string;
}

function ShapeView({
  annotation,
  label,
  color,
  scale,
}: {
  annotation: Annotation;
  label: string;
  color: string;
  scale: number;
}) {
  const { shape } = annotation;
  const outline = {
    stroke: 'rgba(0, 0, 0, 0.55)',
    'stroke-width': 4,
    fill: 'none',
    'vector-effect': 'non-scaling-stroke',
  };
  const stroke = {
    stroke: color,
    'stroke-width': 2,
    fill: 'none',
    'stroke-dasharray': annotation.status === 'rejected' ? '6 4' : undefined,
    'vector-effect': 'non-scaling-stroke',
  };
  const text = (x: number, y: number) => (
    <text
      x={x}
      y={y}
      fill={color}
      font-size={13 * scale}
      stroke="rgba(0, 0, 0, 0.8)"
      stroke-width={3 * scale}
      class="annotation-label"
      paint-order="stroke"
    >
      {label}
    </text>
  );
  switch (shape.type) {
    case 'rectangle':
      return (
        <g data-shape="rectangle" data-label={label}>
          <rect x={shape.x} y={shape.y} width={shape.width} height={shape.height} {...outline} />
          <rect x={shape.x} y={shape.y} width={shape.width} height={shape.height} {...stroke} fill={`${color}1f`} />
          {text(shape.x + 2 * scale, shape.y - 3 * scale)}
        </g>
      );
    case 'polygon':
    case 'line': {
      const points = shape.points.map(([x, y]) => `${x},${y}`).join(' ');
      const [x, y] = shape.points[0] ?? [0, 0];
      return (
        <g data-shape={shape.type} data-label={label}>
          {shape.type === 'polygon' ? (
            <>
              <polygon points={points} {...outline} />
              <polygon points={points} {...stroke} fill={`${color}1f`} />
            </>
          ) : (
            <>
              <polyline points={points} {...outline} />
              <polyline points={points} {...stroke} />
            </>
          )}
          {text(x + 2 * scale, y - 3 * scale)}
        </g>
      );
    }
    case 'point':
      return (
        <g data-shape="point" data-label={label}>
          <circle cx={shape.x} cy={shape.y} r={4 * scale} fill={color} stroke="white" stroke-width={scale} />
          {text(shape.x + 6 * scale, shape.y - 6 * scale)}
        </g>
      );
    default:
      return null;
  }
}

export function AnnotatedPicture({
  asset,
  annotations,
  labels,
  versionId,
}: {
  asset: Asset;
  annotations: readonly Annotation[];
  labels: readonly Label[];
  versionId?: string;
}) {
  const width = asset.width ?? 1;
  const height = asset.height ?? 1;
  // Strokes and text keep a readable size whatever the picture's resolution.
  const scale = Math.max(width, height) / 640;
  const labelIndex = new Map(
    labels.map((label, index) => [label._id, { name: label.name, color: annotationColor(index) }]),
  );
  const classes = annotations.filter((annotation) => annotation.shape.type === 'classification');
  const suffix = versionId ? `?version=${encodeURIComponent(versionId)}` : '';
  return (
    <figure class="annotated">
      {classes.length > 0 && (
        <p class="classes">
          {classes.map((annotation) => (
            <span key={annotation._id} class="tag" style={{ borderColor: labelIndex.get(annotation.labelId)?.color }}>
              {labelIndex.get(annotation.labelId)?.name ?? annotation.labelId}
            </span>
          ))}
        </p>
      )}
      <div class="annotated-frame" style={{ aspectRatio: `${width} / ${height}` }}>
        <AuthImage path={`/assets/${encodeURIComponent(asset._id)}/file${suffix}`} alt={asset.filename ?? asset._id} />
        <svg viewBox={`0 0 ${width} ${height}`} preserveAspectRatio="none" aria-label="Annotations" role="img">
          {annotations.map((annotation) => {
            const label = labelIndex.get(annotation.labelId);
            return (
              <ShapeView
                key={annotation._id}
                annotation={annotation}
                label={label?.name ?? '?'}
                color={label?.color ?? '#e33'}
                scale={scale}
              />
            );
          })}
        </svg>
      </div>
    </figure>
  );
}
