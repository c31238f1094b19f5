/** Runs every Heritage benchmark. */
console.log(
  'heritage bench: not yet available (benchmarks land with the worker, provisioner and dispatch issues).',
);
