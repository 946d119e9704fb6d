/**
 * What a failed call to the server means to the dashboard: the server's Feathers error
 * (`{ name, message, code }`) kept as it came, or a network failure as status 0.
 */
export class ApiError extends Error {
  override readonly name: string;

  constructor(
    readonly status: number,
    name: string,
    message: string,
  ) {
    super(message);
    this.name = name;
  }

  /** Signed out, or the token expired or was revoked. */
  get unauthenticated(): boolean {
    return this.status === 401;
  }

  /** Missing, or not readable by this user: the server does not tell them apart. */
  get notFound(): boolean {
    return this.status === 404;
  }
}

export async function apiErrorOf(response: Response): Promise<ApiError> {
  let body: { name?: unknown; message?: unknown } = {};
  try {
    body = (await response.json()) as typeof body;
  } catch {}
  return new ApiError(
    response.status,
    typeof body.name === 'string' ? body.name : response.statusText || 'Error',
    typeof body.message === 'string' ? body.message : `The server answered ${response.status}`,
  );
}
