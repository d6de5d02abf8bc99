/** Base class of every error the store throws on purpose; `message` says what to do next. */
export class StoreError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The database was written by a newer warden: this code must not touch it. */
export class StoreVersionError extends StoreError {
  constructor(readonly file: string, readonly databaseVersion: number, readonly codeVersion: number) {
    super(`${file} has schema version ${databaseVersion}, but this warden only knows versions up to ${codeVersion}: ` +
      'upgrade warden, or point WARDEN_HOME at another directory. The database was not changed.');
  }
}

/** WARDEN_HOME or the database file is not safe to use (owner, type or file system). */
export class StoreSetupError extends StoreError {}

/** A row that had to be absent exists, or one that had to exist does not. */
export class StoreConflictError extends StoreError {}

/** A value was refused before reaching the database (bad name, bad JSON shape). */
export class StoreInputError extends StoreError {}

/** Another process held the database's write lock for longer than the busy timeout. */
export class StoreBusyError extends StoreError {}
