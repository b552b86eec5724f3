#!/usr/bin/env python3
"""Build a one-layer docker-archive image from Debian's busybox-static, offline.

Usage: build_image.py OUT.tar [REPO:TAG] [BUSYBOX]
Import with: ctr -a SOCK -n k8s.io images import OUT.tar
The image is named docker.io/<REPO:TAG> after containerd's normalisation.
"""
import hashlib
import io
import json
import sys
import tarfile
import time

APPLETS = ["sh", "sleep", "httpd", "nc", "cat", "echo", "hostname", "ip",
           "ifconfig", "wget", "ls", "ps", "mkdir", "true", "false", "env"]


def layer_bytes(busybox_path):
    buf = io.BytesIO()
    mtime = int(time.time())
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        def add_dir(name, mode=0o755):
            ti = tarfile.TarInfo(name)
            ti.type = tarfile.DIRTYPE
            ti.mode = mode
            ti.mtime = mtime
            tf.addfile(ti)

        def add_file(name, data, mode=0o644):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            ti.mode = mode
            ti.mtime = mtime
            tf.addfile(ti, io.BytesIO(data))

        for d in ["bin", "etc", "proc", "sys", "dev", "www", "var"]:
            add_dir(d)
        add_dir("tmp", 0o1777)
        with open(busybox_path, "rb") as f:
            add_file("bin/busybox", f.read(), 0o755)
        for a in APPLETS:
            ti = tarfile.TarInfo("bin/" + a)
            ti.type = tarfile.SYMTYPE
            ti.linkname = "busybox"
            ti.mtime = mtime
            tf.addfile(ti)
        add_file("etc/passwd", b"root:x:0:0:root:/:/bin/sh\n")
        add_file("etc/group", b"root:x:0:\n")
        add_file("www/index.html", b"hello from the portmap-test image\n")
    return buf.getvalue()


def main():
    out = sys.argv[1]
    ref = sys.argv[2] if len(sys.argv) > 2 else "portmap-test/busybox:latest"
    busybox = sys.argv[3] if len(sys.argv) > 3 else "/bin/busybox"
    layer = layer_bytes(busybox)
    diff_id = hashlib.sha256(layer).hexdigest()
    config = {
        "architecture": "amd64",
        "os": "linux",
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "config": {
            "Env": ["PATH=/bin"],
            # Keeps running: used as the sandbox ("pause") image as well.
            "Cmd": ["/bin/sleep", "2147483647"],
            "WorkingDir": "/",
        },
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + diff_id]},
        "history": [{"created_by": "portmap-test build_image.py"}],
    }
    config_bytes = json.dumps(config, sort_keys=True).encode()
    config_id = hashlib.sha256(config_bytes).hexdigest()
    manifest = [{
        "Config": config_id + ".json",
        "RepoTags": [ref],
        "Layers": [diff_id + "/layer.tar"],
    }]
    with tarfile.open(out, "w") as tf:
        def add(name, data):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            ti.mode = 0o644
            tf.addfile(ti, io.BytesIO(data))
        add(config_id + ".json", config_bytes)
        ti = tarfile.TarInfo(diff_id)
        ti.type = tarfile.DIRTYPE
        ti.mode = 0o755
        tf.addfile(ti)
        add(diff_id + "/layer.tar", layer)
        add("manifest.json", json.dumps(manifest).encode())
    print(json.dumps({"out": out, "ref": ref, "config": "sha256:" + config_id,
                      "diff_id": "sha256:" + diff_id}))


if __name__ == "__main__":
    main()
