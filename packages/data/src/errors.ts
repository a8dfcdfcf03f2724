/**
 * DataError: the one error type the data package throws for problems with data files,
 * archives, downloads and split requests. Messages name the file involved and say what to do.
 */
export class DataError extends Error {
  /** The file (or URL) the error is about, when there is one. */
  readonly path: string | undefined;

  constructor(message: string, path?: string) {
    super(message);
    this.name = 'DataError';
    this.path = path;
  }
}
