#!/usr/bin/env python3
"""Minimal CRI v1 RuntimeService client (grpc over a unix socket).

  cri_client.py --sock PATH version
  cri_client.py --sock PATH status
  cri_client.py --sock PATH runp   [--name N] [--uid U] [--ports SPEC]  -> prints sandbox id
  cri_client.py --sock PATH create SANDBOX_ID [--name N] [--image REF] -- CMD...
  cri_client.py --sock PATH start  CONTAINER_ID
  cri_client.py --sock PATH inspectp SANDBOX_ID
  cri_client.py --sock PATH inspect  CONTAINER_ID
  cri_client.py --sock PATH stopp  SANDBOX_ID
  cri_client.py --sock PATH rmp    SANDBOX_ID
  cri_client.py --sock PATH pods

The sandbox config (port mappings, cgroup parent...) is built by
sandbox_config(); CreateContainer must get the same config back, as kubelet
does, so create re-reads it from the JSON file runp wrote for that sandbox
(--state-dir). --ports is a comma-separated list of
PROTOCOL/HOST_PORT/CONTAINER_PORT[/HOST_IP], e.g. tcp/8081/80/192.0.2.1.
"""
import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)  # the stubs generated from api.proto sit beside this file

import grpc  # noqa: E402
from google.protobuf import json_format  # noqa: E402

import api_pb2 as pb  # noqa: E402
import api_pb2_grpc as pbg  # noqa: E402

DEFAULT_IMAGE = "docker.io/portmap-test/busybox:latest"



def parse_ports(spec):
    """PROTOCOL/HOST_PORT/CONTAINER_PORT[/HOST_IP],... -> [(protocol, container, host, host_ip)]"""
    ports = []
    for item in filter(None, spec.split(",")):
        fields = item.split("/", 3)
        if len(fields) < 3:
            raise SystemExit("--ports: '%s' is not PROTOCOL/HOST_PORT/CONTAINER_PORT[/HOST_IP]" % item)
        ports.append((fields[0].upper(), int(fields[2]), int(fields[1]),
                      fields[3] if len(fields) == 4 else ""))
    return ports


def stub(sock, timeout=5):
    # "unix://" + a relative path would be read as an authority: always absolute
    ch = grpc.insecure_channel("unix://" + os.path.abspath(sock))
    grpc.channel_ready_future(ch).result(timeout=timeout)
    return pbg.RuntimeServiceStub(ch)


def sandbox_config(name, uid, ports, namespace="default", log_dir="",
                   cgroup_parent=""):
    cfg = pb.PodSandboxConfig(
        metadata=pb.PodSandboxMetadata(name=name, uid=uid, namespace=namespace,
                                       attempt=0),
        hostname=name,
        log_directory=log_dir,
        port_mappings=[pb.PortMapping(protocol=pb.Protocol.Value(p),
                                      container_port=c, host_port=h,
                                      host_ip=ip)
                       for (p, c, h, ip) in ports],
        labels={"app": "portmap-test"},
        linux=pb.LinuxPodSandboxConfig(
            cgroup_parent=cgroup_parent,
            security_context=pb.LinuxSandboxSecurityContext(
                namespace_options=pb.NamespaceOption(
                    network=pb.POD, pid=pb.CONTAINER, ipc=pb.POD)),
        ),
    )
    return cfg


def container_config(name, image, cmd, args=()):
    return pb.ContainerConfig(
        metadata=pb.ContainerMetadata(name=name, attempt=0),
        image=pb.ImageSpec(image=image),
        command=list(cmd),
        args=list(args),
        log_path=name + ".log",
        linux=pb.LinuxContainerConfig(
            security_context=pb.LinuxContainerSecurityContext(
                namespace_options=pb.NamespaceOption(
                    network=pb.POD, pid=pb.CONTAINER, ipc=pb.POD))),
    )


def dump(msg):
    # fields at their zero value too: SANDBOX_READY is state 0 and would be left out
    return json_format.MessageToDict(msg, preserving_proto_field_name=True,
                                     always_print_fields_with_no_presence=True)


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--sock", required=True)
    ap.add_argument("--state-dir", required=True)
    ap.add_argument("--timeout", type=float, default=60)
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("version")
    sub.add_parser("status")
    p = sub.add_parser("runp")
    p.add_argument("--name", default="portmap-test-pod")
    p.add_argument("--uid", default="00000000-0000-0000-0000-0000000000c1")
    p.add_argument("--log-dir", default="")
    p.add_argument("--cgroup-parent", default="")
    p.add_argument("--ports", default="")
    p = sub.add_parser("create")
    p.add_argument("sandbox_id")
    p.add_argument("--name", default="web")
    p.add_argument("--image", default=DEFAULT_IMAGE)
    p.add_argument("argv", nargs="+")
    for n in ("start", "inspect"):
        sub.add_parser(n).add_argument("container_id")
    for n in ("inspectp", "stopp", "rmp"):
        sub.add_parser(n).add_argument("sandbox_id")
    sub.add_parser("pods")
    a = ap.parse_args(argv)

    rs = stub(a.sock)
    t = a.timeout
    t0 = time.monotonic()

    def done(obj):
        if isinstance(obj, dict):
            obj["_elapsed_s"] = round(time.monotonic() - t0, 3)
        print(json.dumps(obj, indent=1, sort_keys=True))

    if a.cmd == "version":
        done(dump(rs.Version(pb.VersionRequest(version="v1"), timeout=t)))
    elif a.cmd == "status":
        # kubelet polls this (~every 5 s); NetworkReady comes from go-cni's
        # Status(), which in containerd 1.6 only checks that a config is loaded
        done(dump(rs.Status(pb.StatusRequest(verbose=False), timeout=t)))
    elif a.cmd == "runp":
        cfg = sandbox_config(a.name, a.uid, parse_ports(a.ports),
                             log_dir=a.log_dir, cgroup_parent=a.cgroup_parent)
        r = rs.RunPodSandbox(pb.RunPodSandboxRequest(config=cfg), timeout=t)
        os.makedirs(a.state_dir, exist_ok=True)
        with open(os.path.join(a.state_dir, r.pod_sandbox_id + ".json"), "w") as f:
            json.dump(dump(cfg), f)
        done({"pod_sandbox_id": r.pod_sandbox_id})
    elif a.cmd == "create":
        with open(os.path.join(a.state_dir, a.sandbox_id + ".json")) as f:
            scfg = json_format.ParseDict(json.load(f), pb.PodSandboxConfig())
        cc = container_config(a.name, a.image, a.argv)
        r = rs.CreateContainer(pb.CreateContainerRequest(
            pod_sandbox_id=a.sandbox_id, config=cc, sandbox_config=scfg),
            timeout=t)
        done({"container_id": r.container_id})
    elif a.cmd == "start":
        rs.StartContainer(pb.StartContainerRequest(container_id=a.container_id), timeout=t)
        done({"started": a.container_id})
    elif a.cmd == "inspect":
        r = rs.ContainerStatus(pb.ContainerStatusRequest(
            container_id=a.container_id, verbose=False), timeout=t)
        done(dump(r))
    elif a.cmd == "inspectp":
        r = rs.PodSandboxStatus(pb.PodSandboxStatusRequest(
            pod_sandbox_id=a.sandbox_id, verbose=True), timeout=t)
        d = dump(r)
        # info["info"] is a JSON string (runtime spec, netns path, cni result)
        for k, v in list(d.get("info", {}).items()):
            try:
                d["info"][k] = json.loads(v)
            except ValueError:
                pass
        done(d)
    elif a.cmd == "stopp":
        rs.StopPodSandbox(pb.StopPodSandboxRequest(pod_sandbox_id=a.sandbox_id), timeout=t)
        done({"stopped": a.sandbox_id})
    elif a.cmd == "rmp":
        rs.RemovePodSandbox(pb.RemovePodSandboxRequest(pod_sandbox_id=a.sandbox_id), timeout=t)
        done({"removed": a.sandbox_id})
    elif a.cmd == "pods":
        done(dump(rs.ListPodSandbox(pb.ListPodSandboxRequest(), timeout=t)))


if __name__ == "__main__":
    try:
        main()
    except grpc.RpcError as e:
        print("RPC error: %s: %s" % (e.code(), e.details()), file=sys.stderr)
        sys.exit(2)
