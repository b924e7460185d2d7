import { useEffect, useState } from 'react';

/** Anything with a state and change notifications. */
export interface IObservable<T> {
  readonly state: T;
  subscribe(listener: (state: T) => void): () => void;
}

/** Re-render whenever the model's state changes; returns that state. */
export function useModel<T>(model: IObservable<T>): T {
  const [state, setState] = useState<T>(model.state);
  useEffect(() => {
    setState(model.state);
    return model.subscribe(setState);
  }, [model]);
  return state;
}
