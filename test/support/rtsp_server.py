#!/usr/bin/python3
# A real RTSP server for tests (gst-rtsp-server, RTSP over TCP) that behaves like a camera. It relays RTP feeds that
# arrive on UDP ports (video: H.264, H.265 or JPEG; optional audio: AAC or PCMA) without re-encoding, so the feed (an
# ffmpeg started by rtsp.ts, with the frame counter and the wall clock burned in) keeps encoding while this server is
# killed, restarted or frozen, and while clients come and go.
#
# How clients join: the media is shared by every client. gst-rtsp-server builds a fresh relay pipeline when the first
# client arrives and tears it down when the last one leaves; a fresh pipeline waits for the next keyframe (h264parse
# drops slices until it has SPS/PPS, which come with each IDR). So by default ("join": "mid-gop") an internal viewer
# (an rtspsrc in this process) stays attached from start to end, the relay keeps running, and every real client joins
# wherever the feed is in its GOP, as with a real camera. With "join": "keyframe" there is no internal viewer: a client
# that arrives while no other client is connected starts on the feed's next keyframe.
# The relay's source (udpsrc) is live and not seekable, so a PLAY with `Range: npt=0-` never seeks or flushes the
# shared media (a flush would make every client, old and new, wait for a keyframe); checked with a pad probe: no
# SEEK or FLUSH event reaches the payloader when clients join.
#
#   rtsp_server.py '<json>'   {"port", "mount", "video": {"codec": "h264"|"h265"|"mjpeg", "udpPort", "paramSets"},
#                              "audio": null | {"codec": "aac"|"pcma", "udpPort", "rate", "channels", "config"},
#                              "auth": null | {"method": "basic"|"digest", "user", "password"}, "join": "mid-gop"|"keyframe"}
# Prints "ready" on stdout once listening (and, with the internal viewer, once the viewer receives media).
# Run with Debian's /usr/bin/python3 (it has `gi`).
import ctypes
import json
import signal
import sys

import gi

gi.require_version('Gst', '1.0')
gi.require_version('GstRtsp', '1.0')
gi.require_version('GstRtspServer', '1.0')
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402

# Die with the test process that started us (a crashed or timed-out test must not leave a camera running).
ctypes.CDLL('libc.so.6', use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
Gst.init(None)
cfg = json.loads(sys.argv[1])
port, mount, auth_cfg = str(cfg['port']), cfg['mount'], cfg.get('auth')
# A 1080p IDR is a burst of 100+ RTP packets: a large socket buffer keeps the relay from dropping any.
# rtpjitterbuffer mode=none: the relay keeps the feed's RTP timestamps (capture times, pts order with B-frames)
# instead of stamping packets with their arrival time.
UDP = 'udpsrc buffer-size=4194304 port={port} caps="application/x-rtp,{caps}" ! rtpjitterbuffer mode=none latency=200'

def video_relay(codec, param_sets):
    """(RTP caps, relay chain) for the video feed. The payloader's config-interval decides where SPS/PPS (VPS) go:
    -1 inserts them before every keyframe slice NAL (with several slices per frame: before each slice), 0 leaves the
    stream as the encoder wrote it (x264/x265 repeat them once before each keyframe)."""
    interval = -1 if param_sets == 'per-slice' else 0
    # alignment=au: the depayloader hands on whole access units, so every slice of a frame keeps one timestamp (one
    # RTP timestamp per frame, as RFC 6184/7798 require).
    if codec == 'h264':
        return ('media=video,clock-rate=90000,encoding-name=H264,payload=96',
                'rtph264depay ! video/x-h264,stream-format=byte-stream,alignment=au ! h264parse config-interval=-1 '
                f'! rtph264pay name=pay0 pt=96 config-interval={interval}')
    if codec == 'h265':
        return ('media=video,clock-rate=90000,encoding-name=H265,payload=96',
                'rtph265depay ! video/x-h265,stream-format=byte-stream,alignment=au ! h265parse config-interval=-1 '
                f'! rtph265pay name=pay0 pt=96 config-interval={interval}')
    return ('media=video,clock-rate=90000,encoding-name=JPEG,payload=26', 'rtpjpegdepay ! rtpjpegpay name=pay0 pt=26')


def audio_branch(a):
    if a['codec'] == 'pcma':
        caps = f'media=audio,clock-rate={a["rate"]},encoding-name=PCMA,payload=8'
        return UDP.format(port=a['udpPort'], caps=caps) + ' ! rtppcmadepay ! rtppcmapay name=pay1 pt=8'
    caps = (f'media=audio,clock-rate={a["rate"]},encoding-name=MPEG4-GENERIC,encoding-params=(string){a["channels"]},'
            f'mode=(string)AAC-hbr,config=(string){a["config"]},sizelength=(string)13,indexlength=(string)3,'
            'indexdeltalength=(string)3,payload=97')
    return UDP.format(port=a['udpPort'], caps=caps) + ' ! rtpmp4gdepay ! aacparse ! rtpmp4gpay name=pay1 pt=97'


def launch_line():
    v = cfg['video']
    caps, relay = video_relay(v['codec'], v.get('paramSets', 'per-slice'))
    parts = [UDP.format(port=v['udpPort'], caps=caps) + ' ! ' + relay]
    if cfg.get('audio'):
        parts.append(audio_branch(cfg['audio']))
    return '( ' + '  '.join(parts) + ' )'


server = GstRtspServer.RTSPServer()
server.set_address('127.0.0.1')
server.set_service(port)

factory = GstRtspServer.RTSPMediaFactory()
factory.set_launch(launch_line())
factory.set_shared(True)

if auth_cfg:
    auth = GstRtspServer.RTSPAuth()
    token = GstRtspServer.RTSPToken()
    token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, 'viewer')
    if auth_cfg['method'] == 'digest':
        auth.add_digest(auth_cfg['user'], auth_cfg['password'], token)
        auth.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
    else:
        auth.add_basic(GstRtspServer.RTSPAuth.make_basic(auth_cfg['user'], auth_cfg['password']), token)
        auth.set_supported_methods(GstRtsp.RTSPAuthMethod.BASIC)
    server.set_auth(auth)
    perms = GstRtspServer.RTSPPermissions()
    perms.add_permission_for_role('viewer', GstRtspServer.RTSP_PERM_MEDIA_FACTORY_ACCESS, True)
    perms.add_permission_for_role('viewer', GstRtspServer.RTSP_PERM_MEDIA_FACTORY_CONSTRUCT, True)
    factory.set_permissions(perms)

server.get_mount_points().add_factory(mount, factory)
if server.attach(None) == 0:
    print('could not listen', flush=True)
    sys.exit(2)

announced = False


def announce_ready():
    global announced
    if not announced:
        announced = True
        print('ready', flush=True)
    return False


def start_viewer():
    """An RTSP client in this process that keeps the shared media playing between real clients."""
    pipe = Gst.Pipeline.new('viewer')
    src = Gst.ElementFactory.make('rtspsrc')
    src.set_property('location', f'rtsp://127.0.0.1:{port}{mount}')
    src.set_property('protocols', GstRtsp.RTSPLowerTrans.TCP)
    src.set_property('latency', 0)
    if auth_cfg:
        src.set_property('user-id', auth_cfg['user'])
        src.set_property('user-pw', auth_cfg['password'])
    pipe.add(src)

    def on_data(_pad, _info):
        GLib.idle_add(announce_ready)
        return Gst.PadProbeReturn.REMOVE

    def on_pad(_src, pad):
        sink = Gst.ElementFactory.make('fakesink')
        sink.set_property('sync', False)
        sink.set_property('async', False)
        pipe.add(sink)
        sink.sync_state_with_parent()
        pad.link(sink.get_static_pad('sink'))
        pad.add_probe(Gst.PadProbeType.BUFFER, on_data)

    src.connect('pad-added', on_pad)

    def on_message(_bus, msg):
        if msg.type == Gst.MessageType.ERROR:
            err, _ = msg.parse_error()
            print(f'viewer error: {err.message}', file=sys.stderr, flush=True)
            sys.exit(3)

    bus = pipe.get_bus()
    bus.add_signal_watch()
    bus.connect('message', on_message)
    pipe.set_state(Gst.State.PLAYING)
    return pipe


if cfg.get('join', 'mid-gop') == 'mid-gop':
    viewer = start_viewer()
else:
    announce_ready()
GLib.MainLoop().run()
