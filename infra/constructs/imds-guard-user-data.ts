/**
 * Keeps the worker containers away from the instance metadata service and so from the instance role.
 * AWS Batch runs EC2 jobs with host networking: a hop limit of 1 does not stop a container, and the ECS
 * agent's ECS_AWSVPC_BLOCK_IMDS covers awsvpc tasks only. So the host's OUTPUT chain rejects IMDS
 * traffic from every process that is not root. The worker runs as uid 10001 (the job definition pins
 * it); the ECS agent, Docker and the other host daemons that need IMDS run as root.
 *
 * The job role reaches the worker through the ECS agent's credential endpoint (169.254.170.2), which
 * ECS_ENABLE_TASK_IAM_ROLE_NETWORK_HOST turns on for host networking, so the worker needs no IMDS.
 *
 * A cloud-boothook runs on every boot, before cloud-init's user scripts and before the ECS agent
 * starts, so no job can start on the instance before the rule is there. Where the rule cannot be
 * added, the ECS agent is masked: the instance never joins the cluster and no job runs on it.
 */
import * as ec2 from 'aws-cdk-lib/aws-ec2';

/** The image's `heritage` user (gpu-container/Dockerfile); the job definition runs the container as it. */
export const WORKER_UID = 10001;
export const IMDS_IPV4 = '169.254.169.254';
export const IMDS_IPV6 = 'fd00:ec2::254';
export const ECS_CONFIG_FILE = '/etc/ecs/ecs.config';
/** Task roles for host-networked tasks: the agent serves them at 169.254.170.2 instead of IMDS. */
export const ECS_AGENT_SETTINGS = [
  'ECS_ENABLE_TASK_IAM_ROLE=true',
  'ECS_ENABLE_TASK_IAM_ROLE_NETWORK_HOST=true',
];

export const IMDS_GUARD_SCRIPT = `#cloud-boothook
#!/bin/bash
set -uo pipefail
reject_imds() {
  "$1" -C OUTPUT -d "$2" -m owner ! --uid-owner 0 -j REJECT 2>/dev/null ||
    "$1" -I OUTPUT 1 -d "$2" -m owner ! --uid-owner 0 -j REJECT
}
if ! reject_imds iptables ${IMDS_IPV4}/32; then
  echo "heritage: cannot keep containers from IMDS; the ECS agent stays off on this instance" >&2
  systemctl mask ecs.service
  exit 1
fi
# IPv6 IMDS is off in the launch template; the rule still covers it where IPv6 is on at all.
if command -v ip6tables >/dev/null && ! reject_imds ip6tables ${IMDS_IPV6}/128; then
  echo "heritage: no IPv6 IMDS rule (IPv6 is off on this host)" >&2
fi
mkdir -p "$(dirname ${ECS_CONFIG_FILE})"
for SETTING in ${ECS_AGENT_SETTINGS.join(' ')}; do
  grep -qxF "$SETTING" ${ECS_CONFIG_FILE} 2>/dev/null || echo "$SETTING" >> ${ECS_CONFIG_FILE}
done
`;

/** The boothook as a part of the launch template's MIME multi-part user data. */
export function imdsGuardPart(): ec2.MultipartBody {
  return ec2.MultipartBody.fromRawBody({
    contentType: 'text/cloud-boothook; charset="utf-8"',
    body: IMDS_GUARD_SCRIPT,
  });
}
