"""agent/technician/encryption.py on fake /proc and /sys trees: the data directory on a LUKS2
mapper device, on LVM over LUKS, on a plain disk, in a container's overlay."""

from __future__ import annotations

from pathlib import Path

from agent.technician.encryption import data_encryption

MOUNTINFO = """\
22 27 0:21 / /proc rw,relatime - proc proc rw
27 1 254:0 / / rw,relatime - ext4 /dev/vda1 rw
40 27 253:0 / /var/lib/telecart rw,nosuid,nodev,noexec,relatime - ext4 /dev/mapper/telecart-data rw
41 27 253:2 / /srv/with\\040space rw - ext4 /dev/mapper/vg-data rw
"""


def _root(tmp_path: Path, mountinfo: str = MOUNTINFO) -> Path:
    (tmp_path / "proc/self").mkdir(parents=True)
    (tmp_path / "proc/self/mountinfo").write_text(mountinfo)
    return tmp_path


def _dm(root: Path, device: str, uuid: str, name: str, slaves: tuple[str, ...] = ()) -> Path:
    block = root / "sys/dev/block" / device
    (block / "dm").mkdir(parents=True)
    (block / "dm/uuid").write_text(uuid + "\n")
    (block / "dm/name").write_text(name + "\n")
    (block / "slaves").mkdir()
    for slave in slaves:
        (block / "slaves" / slave).symlink_to(root / "sys/dev/block" / slave)
    return block


def test_the_data_directory_on_the_luks2_partition_is_encrypted(tmp_path: Path) -> None:
    root = _root(tmp_path)
    _dm(root, "253:0", "CRYPT-LUKS2-6a1b2c3d4e5f40718293a4b5c6d7e8f9-telecart-data", "telecart-data")
    found = data_encryption(Path("/var/lib/telecart/agent.db").parent, root=root)
    assert found == {"encrypted": True, "scheme": "LUKS2", "mapper": "telecart-data", "mount_point": "/var/lib/telecart",
                     "device": "253:0", "filesystem": "ext4", "source": "/dev/mapper/telecart-data"}
    assert data_encryption(Path("/var/lib/telecart/sub/dir"), root=root)["encrypted"] is True


def test_the_root_file_system_on_a_plain_disk_is_in_clear(tmp_path: Path) -> None:
    root = _root(tmp_path)
    (root / "sys/dev/block/254:0").mkdir(parents=True)  # a disk, not a device-mapper device
    found = data_encryption(Path("/var/lib/telecart-old"), root=root)  # a sibling, not under the mount
    assert (found["encrypted"], found["scheme"], found["mount_point"], found["device"]) == (False, None, "/", "254:0")


def test_lvm_over_luks_is_found_through_its_slaves(tmp_path: Path) -> None:
    root = _root(tmp_path)
    _dm(root, "253:1", "CRYPT-LUKS2-0123456789abcdef0123456789abcdef-cryptdisk", "cryptdisk")
    _dm(root, "253:2", "LVM-abcdefABCDEF0123456789", "vg-data", slaves=("253:1",))
    found = data_encryption(Path("/srv/with space/telecart"), root=root)
    assert (found["encrypted"], found["scheme"], found["mapper"], found["mount_point"]) == (True, "LUKS2", "cryptdisk", "/srv/with space")


def test_a_device_mapper_device_that_is_not_a_crypt_target_is_in_clear(tmp_path: Path) -> None:
    root = _root(tmp_path)
    _dm(root, "253:0", "LVM-abcdefABCDEF0123456789", "vg-telecart")
    found = data_encryption(Path("/var/lib/telecart"), root=root)
    assert (found["encrypted"], found["scheme"], found["mapper"]) == (False, None, "vg-telecart")


def test_a_container_overlay_and_a_missing_proc_are_in_clear(tmp_path: Path) -> None:
    root = _root(tmp_path, "100 1 0:52 / / rw - overlay overlay rw,lowerdir=/a,upperdir=/b\n")
    found = data_encryption(Path("/var/lib/telecart"), root=root)
    assert (found["encrypted"], found["filesystem"], found["device"]) == (False, "overlay", "0:52")
    assert data_encryption(Path("/var/lib/telecart"), root=tmp_path / "nowhere")["encrypted"] is False
