#!/usr/bin/env python3
"""Packs a root filesystem directory as an OCI image archive (image layout
in a tar), so engines can import it without a registry:

    bundles/image/build-oci-image.py ROOTFS OUT.tar NAME:TAG [ENTRYPOINT...]

Without an entrypoint the image runs `sh`.
"""
import hashlib
import io
import json
import os
import sys
import tarfile


def blob(files, data):
    digest = hashlib.sha256(data).hexdigest()
    files[f"blobs/sha256/{digest}"] = data
    return {"digest": f"sha256:{digest}", "size": len(data)}


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    rootfs, out, ref = sys.argv[1:4]
    entrypoint = sys.argv[4:]
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w") as tar:
        for name in sorted(os.listdir(rootfs)):
            tar.add(os.path.join(rootfs, name), arcname=name)
    files = {}
    layer_desc = blob(files, layer.getvalue())
    config = {"architecture": "amd64", "os": "linux",
              "config": {"Entrypoint": entrypoint} if entrypoint else {"Cmd": ["sh"]},
              "rootfs": {"type": "layers", "diff_ids": [layer_desc["digest"]]}}
    config["config"]["Env"] = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]
    config_desc = blob(files, json.dumps(config).encode())
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config_desc},
                "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", **layer_desc}]}
    manifest_desc = blob(files, json.dumps(manifest).encode())
    index = {"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", **manifest_desc,
        "annotations": {"org.opencontainers.image.ref.name": ref}}]}
    files["index.json"] = json.dumps(index).encode()
    files["oci-layout"] = json.dumps({"imageLayoutVersion": "1.0.0"}).encode()
    with tarfile.open(out, "w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


if __name__ == "__main__":
    main()
