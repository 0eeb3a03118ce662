describe('crashPoint', () => {
  const load = (point: string | undefined) => {
    const previous = process.env['SEQCAST_FAULT_POINT'];
    if (point === undefined) delete process.env['SEQCAST_FAULT_POINT'];
    else process.env['SEQCAST_FAULT_POINT'] = point;
    let mod: typeof import('./fault-point') | undefined;
    jest.isolateModules(() => {
      mod = jest.requireActual('./fault-point');
    });
    if (previous === undefined) delete process.env['SEQCAST_FAULT_POINT'];
    else process.env['SEQCAST_FAULT_POINT'] = previous;
    return mod as typeof import('./fault-point');
  };
  let kill: jest.SpyInstance;
  const listenersBefore = process.listeners('SIGUSR2');

  beforeEach(() => {
    kill = jest.spyOn(process, 'kill').mockImplementation(() => true);
  });
  afterEach(() => {
    kill.mockRestore();
    for (const listener of process.listeners('SIGUSR2')) if (!listenersBefore.includes(listener)) process.off('SIGUSR2', listener);
  });

  it('is inert without SEQCAST_FAULT_POINT, even after SIGUSR2', () => {
    const { crashPoint } = load(undefined);
    expect(process.listeners('SIGUSR2')).toEqual(listenersBefore);
    crashPoint('after-db-commit');
    expect(kill).not.toHaveBeenCalled();
  });

  it('kills this process with SIGKILL at the selected point only once armed by SIGUSR2', () => {
    const { crashPoint } = load('after-db-commit');
    crashPoint('after-db-commit');
    expect(kill).not.toHaveBeenCalled();

    process.emit('SIGUSR2', 'SIGUSR2');
    crashPoint('before-db-commit');
    crashPoint('before-offset-commit');
    expect(kill).not.toHaveBeenCalled();
    crashPoint('after-db-commit');
    expect(kill).toHaveBeenCalledWith(process.pid, 'SIGKILL');
  });
});
