/**
 * The launch template's boot scripts, run by bash against stand-in commands: every command they call
 * that touches the host (iptables, systemctl, lsblk, dmsetup, mkfs, mount...) is a stub that records
 * its arguments, and PATH holds nothing else but a few harmless tools. Host paths are moved under a
 * temporary directory.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ECS_AGENT_SETTINGS,
  ECS_CONFIG_FILE,
  IMDS_GUARD_SCRIPT,
} from '../../infra/constructs/imds-guard-user-data.js';
import { MODEL_CACHE_SCRIPT, NVME_MOUNT } from '../../infra/constructs/model-cache-user-data.js';

/** Real tools the scripts may use freely: they touch nothing outside their arguments. */
const HARMLESS = ['awk', 'sort', 'head', 'mkdir', 'chmod', 'grep', 'cat', 'dirname'];

interface Host {
  dir: string;
  /** Every stub call, as "command arg1 arg2 ...". */
  calls(): string[];
  run(script: string): { status: number | null; stderr: string };
}

const hosts: string[] = [];
afterEach(() => {
  for (const dir of hosts.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A stub's shell body, given the fake host's directory; it runs after its call is recorded. */
type Stub = string | ((dir: string) => string);

/** A fake host: `stubs` maps a command to what it does. */
function fakeHost(stubs: Record<string, Stub>): Host {
  const dir = mkdtempSync(join(tmpdir(), 'heritage-boot-'));
  hosts.push(dir);
  const bin = join(dir, 'bin');
  const log = join(dir, 'calls.log');
  spawnSync('mkdir', ['-p', bin]);
  for (const tool of HARMLESS) {
    const found = spawnSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
    symlinkSync(found, join(bin, tool));
  }
  for (const [name, body] of Object.entries(stubs)) {
    const path = join(bin, name);
    const script = typeof body === 'string' ? body : body(dir);
    writeFileSync(path, `#!/bin/bash\necho "${name} $*" >> ${log}\n${script}\n`);
    chmodSync(path, 0o755);
  }
  writeFileSync(log, '');
  return {
    dir,
    calls: () => readFileSync(log, 'utf8').split('\n').filter(Boolean),
    run: (script) => {
      const out = spawnSync('/bin/bash', ['-c', script.replaceAll(NVME_MOUNT, join(dir, 'mnt'))], {
        encoding: 'utf8',
        env: { PATH: bin },
      });
      return { status: out.status, stderr: out.stderr };
    },
  };
}

/** The boothook with its ECS config file moved under the fake host. */
function guardScript(host: Host): string {
  return IMDS_GUARD_SCRIPT.replaceAll(ECS_CONFIG_FILE, join(host.dir, 'ecs', 'ecs.config'));
}

/** iptables that keeps the rules inserted so far in a file, so -C answers as on a real host. */
const iptables =
  (table: string) =>
  (dir: string): string =>
    `
if [ "$1" = "-C" ]; then shift; grep -qxF -- "$*" ${dir}/${table} 2>/dev/null; exit; fi
if [ "$1" = "-I" ]; then shift 3; echo "OUTPUT $*" >> ${dir}/${table}; fi`;
const FIREWALL = { iptables: iptables('rules'), ip6tables: iptables('rules6'), systemctl: '' };

describe('IMDS guard boothook', () => {
  it('rejects IMDS for every non-root process, IPv4 and IPv6, and gives tasks their role without IMDS', () => {
    // Prepare
    const ready = fakeHost(FIREWALL);

    // Act
    const boot = ready.run(guardScript(ready));

    // Assess
    expect(boot.status, boot.stderr).toBe(0);
    expect(ready.calls()).toContain(
      'iptables -I OUTPUT 1 -d 169.254.169.254/32 -m owner ! --uid-owner 0 -j REJECT',
    );
    expect(ready.calls()).toContain(
      'ip6tables -I OUTPUT 1 -d fd00:ec2::254/128 -m owner ! --uid-owner 0 -j REJECT',
    );
    expect(ready.calls().filter((call) => call.startsWith('systemctl'))).toEqual([]);
    const config = readFileSync(join(ready.dir, 'ecs', 'ecs.config'), 'utf8')
      .trim()
      .split('\n');
    expect(config).toEqual(ECS_AGENT_SETTINGS);
    expect(ECS_AGENT_SETTINGS).toContain('ECS_ENABLE_TASK_IAM_ROLE_NETWORK_HOST=true');
  });

  it('adds nothing twice when it runs again on the next boot of the same host', () => {
    // Prepare
    const host = fakeHost(FIREWALL);
    host.run(guardScript(host));

    // Act
    const again = host.run(guardScript(host));

    // Assess
    expect(again.status, again.stderr).toBe(0);
    expect(host.calls().filter((call) => call.startsWith('iptables -I'))).toHaveLength(1);
    const config = readFileSync(join(host.dir, 'ecs', 'ecs.config'), 'utf8')
      .trim()
      .split('\n');
    expect(config).toEqual(ECS_AGENT_SETTINGS);
  });

  it('keeps the ECS agent off, so no job runs, when the rule cannot be added', () => {
    // Prepare
    const host = fakeHost({ iptables: 'exit 4', ip6tables: '', systemctl: '' });

    // Act
    const boot = host.run(guardScript(host));

    // Assess
    expect(boot.status).not.toBe(0);
    expect(host.calls()).toContain('systemctl mask ecs.service');
    expect(() => readFileSync(join(host.dir, 'ecs', 'ecs.config'))).toThrow();
  });
});

describe('model cache script', () => {
  const DISK = 'Amazon EC2 NVMe Instance Storage';
  const lsblk = (count: number) =>
    `cat <<'EOF'\n/dev/nvme0n1 Amazon Elastic Block Store\n${Array.from(
      { length: count },
      (_, i) => `/dev/nvme${i + 1}n1 ${DISK}`,
    ).join('\n')}\nEOF`;
  const common = (disks: number) => ({
    lsblk: lsblk(disks),
    mountpoint: 'exit 1',
    'mkfs.xfs': '',
    mount: '',
    dnf: '',
    yum: '',
    // Sizes in 512-byte sectors; the third disk is the smallest.
    blockdev: 'case "$2" in /dev/nvme3n1) echo 7500000000;; *) echo 7500001234;; esac',
    dmsetup: '',
  });

  it('stripes the instance-store disks with device-mapper when mdadm is absent, installing nothing', () => {
    // Prepare
    const host = fakeHost(common(8));
    const perDisk = Math.floor(7_500_000_000 / 1024) * 1024;
    const disks = Array.from({ length: 8 }, (_, i) => `/dev/nvme${i + 1}n1 0`).join(' ');

    // Act
    const boot = host.run(MODEL_CACHE_SCRIPT);

    // Assess
    expect(boot.status, boot.stderr).toBe(0);
    expect(host.calls()).toContain(
      `dmsetup create heritage --table 0 ${perDisk * 8} striped 8 1024 ${disks}`,
    );
    expect(host.calls()).toContain('mkfs.xfs -f /dev/mapper/heritage');
    expect(host.calls()).toContain(`mount -o noatime /dev/mapper/heritage ${join(host.dir, 'mnt')}`);
    expect(host.calls().filter((call) => /^(dnf|yum) /.test(call))).toEqual([]);
  });

  it('uses mdadm where the AMI has it', () => {
    // Prepare
    const host = fakeHost({ ...common(2), mdadm: '' });

    // Act
    const boot = host.run(MODEL_CACHE_SCRIPT);

    // Assess
    expect(boot.status, boot.stderr).toBe(0);
    expect(host.calls()).toContain(
      'mdadm --create /dev/md/heritage --run --force --level=0 --raid-devices=2 /dev/nvme1n1 /dev/nvme2n1',
    );
    expect(host.calls().filter((call) => call.startsWith('dmsetup'))).toEqual([]);
  });

  it('formats a single disk as it is, and leaves the cache on the root volume with none', () => {
    // Prepare
    const one = fakeHost(common(1));
    const none = fakeHost(common(0));

    // Act
    const withOne = one.run(MODEL_CACHE_SCRIPT);
    const withNone = none.run(MODEL_CACHE_SCRIPT);

    // Assess
    expect([withOne.status, withNone.status]).toEqual([0, 0]);
    expect(one.calls()).toContain('mkfs.xfs -f /dev/nvme1n1');
    expect(none.calls().filter((call) => /^(mkfs\.xfs|mount|dmsetup) /.test(call))).toEqual([]);
    expect(withNone.stderr).toContain('no instance-store NVMe found');
  });
});
