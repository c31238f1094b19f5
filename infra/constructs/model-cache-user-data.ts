/**
 * Launch-template user data that joins every local NVMe instance-store disk into one RAID 0 and
 * mounts it where the worker's model cache lives. AWS Batch merges it with its own user data, which
 * is why it must be MIME multi-part. Nothing is installed at boot (the workers have no route to a
 * package repository): mdadm where the AMI has it, else device-mapper striping with dmsetup, which
 * the AMI carries because systemd needs device-mapper.
 */
import * as ec2 from 'aws-cdk-lib/aws-ec2';

/** Host path of the NVMe mount; the job definition binds its models/ directory into the container. */
export const NVME_MOUNT = '/mnt/heritage';
export const HOST_MODEL_CACHE_DIR = `${NVME_MOUNT}/models`;

export const MODEL_CACHE_SCRIPT = `set -euo pipefail
MOUNT=${NVME_MOUNT}
if mountpoint -q "$MOUNT"; then exit 0; fi
mkdir -p "$MOUNT"
# Instance-store disks name themselves; the EBS root volume does not match.
mapfile -t DISKS < <(lsblk -dpno NAME,MODEL | awk '/Amazon EC2 NVMe Instance Storage/ {print $1}')
if [ "\${#DISKS[@]}" -eq 0 ]; then
  echo "heritage: no instance-store NVMe found; the model cache stays on the root volume" >&2
elif [ "\${#DISKS[@]}" -eq 1 ]; then
  mkfs.xfs -f "\${DISKS[0]}"
  mount -o noatime "\${DISKS[0]}" "$MOUNT"
elif command -v mdadm >/dev/null; then
  mdadm --create /dev/md/heritage --run --force --level=0 --raid-devices="\${#DISKS[@]}" "\${DISKS[@]}"
  mkfs.xfs -f /dev/md/heritage
  mount -o noatime /dev/md/heritage "$MOUNT"
else
  # RAID 0 as device-mapper stripes: 512 KiB chunks (mdadm's default), each disk cut to the smallest.
  CHUNK=1024
  SMALLEST=$(for DISK in "\${DISKS[@]}"; do blockdev --getsz "$DISK"; done | sort -n | head -n 1)
  PER_DISK=$(( SMALLEST / CHUNK * CHUNK ))
  TABLE="0 $(( PER_DISK * \${#DISKS[@]} )) striped \${#DISKS[@]} $CHUNK"
  for DISK in "\${DISKS[@]}"; do TABLE="$TABLE $DISK 0"; done
  dmsetup create heritage --table "$TABLE"
  mkfs.xfs -f /dev/mapper/heritage
  mount -o noatime /dev/mapper/heritage "$MOUNT"
fi
mkdir -p ${HOST_MODEL_CACHE_DIR}
chmod 0777 ${HOST_MODEL_CACHE_DIR}`;

export function modelCacheUserData(): ec2.MultipartUserData {
  const shell = ec2.UserData.forLinux();
  shell.addCommands(MODEL_CACHE_SCRIPT);
  const userData = new ec2.MultipartUserData();
  userData.addPart(ec2.MultipartBody.fromUserData(shell));
  return userData;
}
