/** Entry point of the `heritage` command-line tool. */
const [command] = process.argv.slice(2);

if (command === 'demo') {
  console.log('heritage demo: not yet available (the local stack lands with the local-run issue).');
} else {
  console.error(`heritage: unknown command '${command ?? ''}'`);
  process.exitCode = 2;
}
