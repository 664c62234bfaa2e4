#!/usr/bin/python3
# A real RTSP server for tests (gst-rtsp-server, RTSP over TCP). It relays an H.264 RTP feed that arrives on a UDP
# port without re-encoding, so the feed (an ffmpeg started by rtsp.ts, with the frame counter burned in) keeps
# counting while this server is killed, restarted or frozen. Run with Debian's /usr/bin/python3 (it has `gi`).
#   rtsp_server.py RTSP_PORT UDP_PORT MOUNT [USER PASSWORD]
# Prints "ready" on stdout once listening.
import sys

import gi

gi.require_version('Gst', '1.0')
gi.require_version('GstRtspServer', '1.0')
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

Gst.init(None)
port, udp_port, mount = sys.argv[1], int(sys.argv[2]), sys.argv[3]
user, password = (sys.argv[4], sys.argv[5]) if len(sys.argv) > 5 else (None, None)

server = GstRtspServer.RTSPServer()
server.set_address('127.0.0.1')
server.set_service(port)

factory = GstRtspServer.RTSPMediaFactory()
# config-interval=-1: SPS/PPS with every IDR, so a client joining at any keyframe can decode.
factory.set_launch(
    f'( udpsrc port={udp_port} caps="application/x-rtp,media=video,clock-rate=90000,encoding-name=H264,payload=96" '
    '! rtph264depay ! h264parse config-interval=-1 ! rtph264pay name=pay0 pt=96 config-interval=-1 )'
)
factory.set_shared(True)

if user:
    auth = GstRtspServer.RTSPAuth()
    token = GstRtspServer.RTSPToken()
    token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, 'viewer')
    auth.add_basic(GstRtspServer.RTSPAuth.make_basic(user, password), token)
    server.set_auth(auth)
    perms = GstRtspServer.RTSPPermissions()
    perms.add_permission_for_role('viewer', GstRtspServer.RTSP_PERM_MEDIA_FACTORY_ACCESS, True)
    perms.add_permission_for_role('viewer', GstRtspServer.RTSP_PERM_MEDIA_FACTORY_CONSTRUCT, True)
    factory.set_permissions(perms)

server.get_mount_points().add_factory(mount, factory)
if server.attach(None) == 0:
    print('could not listen', flush=True)
    sys.exit(2)
print('ready', flush=True)
GLib.MainLoop().run()
