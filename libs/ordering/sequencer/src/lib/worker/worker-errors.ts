/** A fault hook threw: behave like a process that died at that point. */
export class SimulatedCrash extends Error {
  constructor(hook: string, cause: unknown) {
    super(`fault hook ${hook} threw: ${describeError(cause)}`);
    this.name = 'SimulatedCrash';
  }
}

export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Runs a test fault hook; its failure is a simulated crash at that point. */
export async function runFaultHook<C>(name: string, hook: (context: C) => Promise<void>, context: C): Promise<void> {
  try {
    await hook(context);
  } catch (error) {
    throw new SimulatedCrash(name, error);
  }
}
