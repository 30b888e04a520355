/** Anything you can listen to: `subscribe(listener)` returns its own unsubscribe. */
export interface Subscribable<T> {
  subscribe(listener: (value: T) => void): () => void;
}

/** What callers get of a stream: listen and iterate, never emit. */
export interface EventStream<T> extends Subscribable<T>, AsyncIterable<T> {}

/** What callers get of a value that changes: the latest value, listen and iterate, never set. */
export interface LiveValue<T> extends EventStream<T> {
  readonly value: T;
}

/** A read-only view of an emitter (or of a value stream, with its `value`). */
export function readOnly<T>(source: ValueStream<T>): LiveValue<T>;
export function readOnly<T>(source: Emitter<T>): EventStream<T>;
export function readOnly<T>(source: Emitter<T>): EventStream<T> | LiveValue<T> {
  const view = {
    subscribe: (listener: (value: T) => void) => source.subscribe(listener),
    [Symbol.asyncIterator]: () => source[Symbol.asyncIterator](),
  };
  if (!(source instanceof ValueStream)) return view;
  return Object.defineProperty(view, 'value', {
    get: () => source.value,
    enumerable: true,
  }) as LiveValue<T>;
}

/**
 * The one listener primitive. A throwing listener is reported through
 * `onListenerError` and never stops the others or the engine.
 */
export class Emitter<T> implements Subscribable<T>, AsyncIterable<T> {
  readonly #listeners = new Set<(value: T) => void>();

  constructor(private readonly onListenerError: (error: unknown) => void = reportLater) {}

  subscribe(listener: (value: T) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  get listenerCount(): number {
    return this.#listeners.size;
  }

  emit(value: T): void {
    for (const listener of this.#listeners) {
      try {
        listener(value);
      } catch (error) {
        this.onListenerError(error);
      }
    }
  }

  /** Yields every value emitted after iteration starts; `break` unsubscribes. */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    return iterate(this, undefined);
  }
}

/** An emitter that also holds its latest value, like a BehaviorSubject. */
export class ValueStream<T> extends Emitter<T> {
  #value: T;

  constructor(initial: T, onListenerError?: (error: unknown) => void) {
    super(onListenerError);
    this.#value = initial;
  }

  get value(): T {
    return this.#value;
  }

  set(next: T): void {
    if (next === this.#value) return;
    this.#value = next;
    this.emit(next);
  }

  /** Yields the current value first, then every change. */
  override [Symbol.asyncIterator](): AsyncIterator<T> {
    return iterate(this, { value: this.#value });
  }
}

function iterate<T>(source: Subscribable<T>, first: { value: T } | undefined): AsyncIterator<T> {
  const buffered: T[] = first ? [first.value] : [];
  let waiting: ((result: IteratorResult<T>) => void) | undefined;
  let done = false;
  const unsubscribe = source.subscribe((value) => {
    if (waiting) {
      const resolve = waiting;
      waiting = undefined;
      resolve({ value, done: false });
    } else {
      buffered.push(value);
    }
  });
  const finish = (): Promise<IteratorResult<T>> => {
    done = true;
    unsubscribe();
    waiting?.({ value: undefined, done: true });
    waiting = undefined;
    return Promise.resolve({ value: undefined, done: true });
  };
  return {
    next() {
      if (buffered.length > 0)
        return Promise.resolve({ value: buffered.shift() as T, done: false });
      if (done) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve) => {
        waiting = resolve;
      });
    },
    return: finish,
  };
}

function reportLater(error: unknown): void {
  queueMicrotask(() => {
    throw error;
  });
}
