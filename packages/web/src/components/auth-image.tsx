/**
 * A picture behind the API: fetched with the session's token (an `<img src>` cannot carry
 * it) and shown from an object URL, released when the picture leaves the page.
 */
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api/api-client.js';

interface Props {
  path: string;
  alt: string;
  class?: string;
}

export function AuthImage({ path, alt, class: className }: Props) {
  const [url, setUrl] = useState<string | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    const controller = new AbortController();
    let created: string | null = null;
    setFailed(false);
    api.blob(path, controller.signal).then(
      (blob) => {
        created = URL.createObjectURL(blob);
        setUrl(created);
      },
      () => {
        if (!controller.signal.aborted) setFailed(true);
      },
    );
    return () => {
      controller.abort();
      if (created) URL.revokeObjectURL(created);
    };
  }, [path]);
  if (failed) return <span class="image-missing">{alt}: not available</span>;
  if (!url) return <span class="image-loading" aria-busy="true" />;
  return <img src={url} alt={alt} class={className} />;
}
