/* cordon-testcam --hostile MODE: a small hand-written RTSP responder (one
 * thread per TCP connection, RTP interleaved on the RTSP connection, 461 to
 * any other transport) that misbehaves in one specific way. Streaming modes
 * run one GStreamer pipeline per client after PLAY and copy its RTP packets
 * from an appsink onto the connection, so the SDP and the payload can say
 * different things. See README.md, "Hostile modes". */
#define G_LOG_DOMAIN "cordon-testcam"

#include "hostile.h"

#include <gio/gio.h>
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <stdlib.h>
#include <string.h>

const char *const testcam_hostile_modes[] = {
  "garbage", "huge-headers", "stall", "lying-sdp-codec", "lying-sdp-size",
  "h265-as-h264", "no-keyframe", "resolution-switch", "redirect", "redirect-name", "basic-auth",
  "oversized-sdp", "over-rate", "flood", "control-elsewhere", NULL,
};

#define HUGE_HEADER_LIMIT ((guint64) 1 << 30)  /* then the blank line */
#define HUGE_HEADER_VALUE 1000
#define GARBAGE_CHUNK 16384
#define LIE_WIDTH 3840                         /* lying-sdp-size: the SDP's SPS */
#define LIE_HEIGHT 2160
#define SWITCH_EVERY_S 3                       /* resolution-switch period */
#define REDIRECT_NAME "cordon-exfil.example.net" /* redirect-name: a name only DNS knows */
#define OVERSIZED_WIDTH 7680                   /* oversized-sdp: what the SDP claims */
#define OVERSIZED_HEIGHT 4320
#define OVER_RATE_FPS 120                      /* over-rate: what the stream's VUI claims;
                                                * flood: how fast it really sends */

static const TestcamHostile *settings;
static char *lie_sprop;                        /* lying-sdp-size */
static char *lie_profile;
static GSocketService *service;
static gint active;
static gint stopping;
static gint session_ids;

typedef struct {
  GSocketConnection *conn;
  GOutputStream *out;
  char *peer;
  GMutex write_lock;
  gboolean dead;             /* under write_lock: a write failed */
  guint64 sent;              /* under write_lock */
  GstElement *pipeline;      /* streaming modes, after PLAY */
  GstElement *sizefilter;    /* resolution-switch */
  guint64 frames;            /* streaming thread only */
  gboolean small;            /* streaming thread only */
  gboolean stalled;          /* stall: ignore everything after DESCRIBE */
} Client;

typedef struct {
  char *method;
  char *url;
  char *transport;
  char *authorization;
  int cseq;
} Request;

static void
request_clear (Request *r)
{
  g_clear_pointer (&r->method, g_free);
  g_clear_pointer (&r->url, g_free);
  g_clear_pointer (&r->transport, g_free);
  g_clear_pointer (&r->authorization, g_free);
  r->cseq = 0;
}

static gboolean
mode_is (const char *mode)
{
  return g_str_equal (settings->mode, mode);
}

gboolean
testcam_hostile_mode_valid (const char *mode)
{
  return g_strv_contains (testcam_hostile_modes, mode);
}

/* ---- writing ---- */

/* Writes all of DATA; a client that does not read for PATIENCE_S seconds
 * (or a closed connection) marks the client dead. */
static gboolean
send_all (Client *c, const void *data, gsize len, guint patience_s)
{
  gboolean ok = FALSE;
  gsize done = 0;
  gint64 give_up = g_get_monotonic_time () + (gint64) patience_s * G_USEC_PER_SEC;

  g_mutex_lock (&c->write_lock);
  while (!c->dead && done < len) {
    g_autoptr (GError) error = NULL;
    gssize n = g_output_stream_write (c->out, (const guint8 *) data + done, len - done, NULL, &error);
    if (n > 0) {
      done += (gsize) n;
      c->sent += (guint64) n;
    } else if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT)
               || g_get_monotonic_time () > give_up || g_atomic_int_get (&stopping)) {
      c->dead = TRUE;
    }
  }
  ok = !c->dead;
  g_mutex_unlock (&c->write_lock);
  return ok;
}

static gboolean
respond (Client *c, int cseq, const char *status, const char *headers, const char *body)
{
  g_autoptr (GString) msg = g_string_new (NULL);

  g_string_append_printf (msg, "RTSP/1.0 %s\r\nCSeq: %d\r\nServer: cordon-testcam (hostile)\r\n%s",
                          status, cseq, headers ? headers : "");
  if (body)
    g_string_append_printf (msg, "Content-Length: %zu\r\n", strlen (body));
  g_string_append (msg, "\r\n");
  if (body)
    g_string_append (msg, body);
  return send_all (c, msg->str, msg->len, 5);
}

/* ---- reading ---- */

static const char *
header_value (char **lines, const char *name)
{
  gsize n = strlen (name);
  for (guint i = 1; lines[i]; i++)
    if (g_ascii_strncasecmp (lines[i], name, n) == 0 && lines[i][n] == ':')
      return g_strstrip (lines[i] + n + 1);
  return NULL;
}

static gssize
find_blank_line (const GByteArray *buf)
{
  for (guint i = 0; i + 4 <= buf->len; i++)
    if (memcmp (buf->data + i, "\r\n\r\n", 4) == 0)
      return i;
  return -1;
}

/* The next request, skipping interleaved frames (the client's RTCP). FALSE
 * at end of stream, on an error, an oversized request, or when stopping. */
static gboolean
read_request (Client *c, GByteArray *buf, Request *req)
{
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (c->conn));
  guint8 tmp[4096];

  request_clear (req);
  for (;;) {
    if (buf->len >= 4 && buf->data[0] == '$') {
      guint flen = 4 + ((guint) buf->data[2] << 8 | buf->data[3]);
      if (buf->len >= flen) {
        g_byte_array_remove_range (buf, 0, flen);
        continue;
      }
    } else if (buf->len > 0 && buf->data[0] != '$') {
      gssize end = find_blank_line (buf);
      if (end >= 0) {
        g_autofree char *head = g_strndup ((const char *) buf->data, (gsize) end);
        g_auto (GStrv) lines = g_strsplit (head, "\r\n", -1);
        g_auto (GStrv) words = g_strsplit (lines[0], " ", 3);
        const char *cseq = header_value (lines, "CSeq");
        const char *length = header_value (lines, "Content-Length");
        const char *transport = header_value (lines, "Transport");
        const char *authorization = header_value (lines, "Authorization");
        guint64 body = length ? g_ascii_strtoull (length, NULL, 10) : 0;

        if (body > 65536 || g_strv_length (words) < 2)
          return FALSE;
        while (buf->len < (guint) end + 4 + body) {
          gssize n = g_input_stream_read (in, tmp, sizeof tmp, NULL, NULL);
          if (n <= 0)
            return FALSE;
          g_byte_array_append (buf, tmp, (guint) n);
        }
        g_byte_array_remove_range (buf, 0, (guint) (end + 4 + body));
        req->method = g_strdup (words[0]);
        req->url = g_strdup (words[1]);
        req->transport = g_strdup (transport);
        req->authorization = g_strdup (authorization);
        req->cseq = cseq ? atoi (cseq) : 0;
        return TRUE;
      }
      if (buf->len > 65536)
        return FALSE;
    }

    g_autoptr (GError) error = NULL;
    gssize n = g_input_stream_read (in, tmp, sizeof tmp, NULL, &error);
    if (n > 0)
      g_byte_array_append (buf, tmp, (guint) n);
    else if (n == 0 || !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT)
             || g_atomic_int_get (&stopping))
      return FALSE;
  }
}

/* Reads and drops everything until the client goes away (or we stop). */
static void
drain (Client *c)
{
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (c->conn));
  guint8 tmp[4096];

  while (!g_atomic_int_get (&stopping)) {
    g_autoptr (GError) error = NULL;
    gssize n = g_input_stream_read (in, tmp, sizeof tmp, NULL, &error);
    if (n == 0 || (n < 0 && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT)))
      return;
  }
}

/* ---- raw modes ---- */

/* Pseudo-random bytes (fixed seed: every run sends the same) until the
 * client hangs up. */
static void
send_garbage (Client *c)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (0xc0d0);
  guint32 chunk[GARBAGE_CHUNK / 4];

  while (!g_atomic_int_get (&stopping)) {
    for (guint i = 0; i < G_N_ELEMENTS (chunk); i++)
      chunk[i] = g_rand_int (rand);
    /* Never a status line or an interleaved frame by chance. */
    ((guint8 *) chunk)[0] = 0x8f;
    if (!send_all (c, chunk, sizeof chunk, 30))
      return;
    g_usleep (20 * 1000);
  }
}

/* A 200 status line, then header lines as fast as the client reads them:
 * 1 GiB of them before the blank line that would end the response. */
static void
send_huge_headers (Client *c, int cseq)
{
  g_autofree char *start = g_strdup_printf ("RTSP/1.0 200 OK\r\nCSeq: %d\r\n", cseq);
  g_autoptr (GString) block = g_string_new (NULL);
  char value[HUGE_HEADER_VALUE + 1];
  guint64 total = 0;
  guint line = 0;

  memset (value, 'x', HUGE_HEADER_VALUE);
  value[HUGE_HEADER_VALUE] = '\0';
  if (!send_all (c, start, strlen (start), 30))
    return;
  while (total < HUGE_HEADER_LIMIT && !g_atomic_int_get (&stopping)) {
    g_string_truncate (block, 0);
    while (block->len < 64 * 1024)
      g_string_append_printf (block, "X-Hostile-%08u: %s\r\n", line++, value);
    if (!send_all (c, block->str, block->len, 30))
      return;
    total += block->len;
  }
  send_all (c, "\r\n", 2, 30);
}

/* ---- streaming modes ---- */

static GstFlowReturn
on_rtp (GstAppSink *sink, gpointer data)
{
  Client *c = data;
  g_autoptr (GstSample) sample = gst_app_sink_pull_sample (sink);
  GstBuffer *buffer = sample ? gst_sample_get_buffer (sample) : NULL;
  GstMapInfo map;

  if (!buffer || !gst_buffer_map (buffer, &map, GST_MAP_READ))
    return GST_FLOW_OK;
  if (map.size >= 2 && map.size <= 65535) {
    g_autofree guint8 *frame = g_malloc (map.size + 4);
    frame[0] = '$';
    frame[1] = 0;
    frame[2] = (guint8) (map.size >> 8);
    frame[3] = (guint8) map.size;
    memcpy (frame + 4, map.data, map.size);
    send_all (c, frame, map.size + 4, 1);
    /* The marker bit ends an access unit. */
    if ((map.data[1] & 0x80) && c->sizefilter && ++c->frames % ((guint64) settings->fps * SWITCH_EVERY_S) == 0) {
      /* Another size and aspect: W×H, then (H·4/3)×H rounded to even, in turn. */
      int w = c->small ? settings->width : (settings->height * 4 / 3) & ~1;
      int h = settings->height;
      g_autoptr (GstCaps) caps = gst_caps_new_simple ("video/x-raw", "format", G_TYPE_STRING, "I420",
                                                      "width", G_TYPE_INT, w, "height", G_TYPE_INT, h,
                                                      "framerate", GST_TYPE_FRACTION, settings->fps, 1, NULL);
      c->small = !c->small;
      g_object_set (c->sizefilter, "caps", caps, NULL);
    }
  }
  gst_buffer_unmap (buffer, &map);
  return GST_FLOW_OK;
}

/* no-keyframe: rebuild every access unit without its IDR slices (type 5);
 * SPS, PPS and SEI stay, so the stream parses but never starts a picture
 * that a decoder can show without references it never got. */
static GstPadProbeReturn
strip_idr (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  GstBuffer *in = GST_PAD_PROBE_INFO_BUFFER (info);
  g_autoptr (GByteArray) out = g_byte_array_new ();
  GstMapInfo map;
  gboolean stripped = FALSE;
  gsize i = 0;

  if (!gst_buffer_map (in, &map, GST_MAP_READ))
    return GST_PAD_PROBE_OK;
  while (i + 3 <= map.size) {
    gsize start, end;
    if (!(map.data[i] == 0 && map.data[i + 1] == 0 && map.data[i + 2] == 1)) {
      i++;
      continue;
    }
    start = i + 3;
    for (end = start; end + 3 <= map.size; end++)
      if (map.data[end] == 0 && map.data[end + 1] == 0 && map.data[end + 2] == 1)
        break;
    if (end + 3 > map.size)
      end = map.size;
    if (start < end && (map.data[start] & 0x1f) == 5) {
      stripped = TRUE;
    } else {
      static const guint8 code[] = { 0, 0, 0, 1 };
      gsize size = end - start;
      while (size > 0 && map.data[start + size - 1] == 0)
        size--;
      g_byte_array_append (out, code, sizeof code);
      g_byte_array_append (out, map.data + start, (guint) size);
    }
    i = end;
  }
  gst_buffer_unmap (in, &map);
  if (!stripped)
    return GST_PAD_PROBE_OK;
  if (out->len == 0)
    return GST_PAD_PROBE_DROP;

  gsize len = out->len;
  GstBuffer *buf = gst_buffer_new_wrapped (g_byte_array_free (g_steal_pointer (&out), FALSE), len);
  gst_buffer_copy_into (buf, in, GST_BUFFER_COPY_FLAGS | GST_BUFFER_COPY_TIMESTAMPS, 0, -1);
  GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_DELTA_UNIT);
  gst_buffer_unref (in);
  GST_PAD_PROBE_INFO_DATA (info) = buf;
  return GST_PAD_PROBE_OK;
}

static GstFlowReturn
relabel_h265 (GstAppSink *sink, gpointer data)
{
  GstAppSrc *relabel = data;
  g_autoptr (GstSample) sample = gst_app_sink_pull_sample (sink);
  GstBuffer *buffer = sample ? gst_sample_get_buffer (sample) : NULL;

  if (buffer)
    gst_app_src_push_buffer (relabel, gst_buffer_ref (buffer));
  return GST_FLOW_OK;
}

static GstBusSyncReply
on_bus (GstBus *bus, GstMessage *msg, gpointer data)
{
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    g_autoptr (GError) error = NULL;
    gst_message_parse_error (msg, &error, NULL);
    g_warning ("stream pipeline: %s", error->message);
  }
  return GST_BUS_DROP;
}

static char *
stream_launch (void)
{
  const TestcamHostile *s = settings;
  g_autofree char *source = g_strdup_printf ("videotestsrc is-live=true pattern=smpte horizontal-speed=4"
                                             " ! capsfilter name=size caps=video/x-raw,format=I420,width=%d,height=%d,"
                                             "framerate=%d/1", s->width, s->height, s->fps);
  const char *pay = "rtph264pay pt=96 mtu=1400 config-interval=-1 ! appsink name=out sync=false async=false";

  if (mode_is ("h265-as-h264"))
    /* H.265 access units handed over (relabel_h265) to an appsrc that calls
     * them H.264, then packetised as H.264: caps cannot be relabelled inside
     * one chain, the link refuses. */
    return g_strdup_printf ("%s ! x265enc tune=zerolatency speed-preset=ultrafast key-int-max=%d bitrate=%d"
                            " ! h265parse ! video/x-h265,stream-format=byte-stream,alignment=au"
                            " ! appsink name=h265 sync=false async=false"
                            " appsrc name=relabel is-live=true format=time"
                            " caps=video/x-h264,stream-format=byte-stream,alignment=au ! %s",
                            source, s->fps * 2, s->bitrate, pay);
  if (mode_is ("flood")) {
    /* OVER_RATE_FPS pictures a second, stamped as --fps: the SPS's timing
     * says --fps, only counting on arrival shows the rate. */
    g_autofree char *fast = g_strdup_printf ("videotestsrc is-live=true pattern=smpte horizontal-speed=4"
                                             " ! capsfilter caps=video/x-raw,format=I420,width=%d,height=%d,"
                                             "framerate=%d/1 ! capssetter caps=video/x-raw,framerate=%d/1",
                                             s->width, s->height, OVER_RATE_FPS, s->fps);
    return g_strdup_printf ("%s ! x264enc tune=zerolatency speed-preset=superfast key-int-max=%d bitrate=%d"
                            " threads=1 sliced-threads=false ! video/x-h264,profile=main ! h264parse"
                            " ! video/x-h264,stream-format=byte-stream,alignment=au ! %s",
                            fast, s->fps * 2, s->bitrate, pay);
  }
  if (mode_is ("over-rate"))
    /* Pictures at --fps, stamped as OVER_RATE_FPS: x264enc writes that rate
     * into the SPS's timing info, which h264parse puts in its caps. */
    return g_strdup_printf ("%s ! capssetter caps=video/x-raw,framerate=%d/1"
                            " ! x264enc tune=zerolatency speed-preset=superfast key-int-max=%d bitrate=%d"
                            " threads=1 sliced-threads=false ! video/x-h264,profile=main ! h264parse"
                            " ! video/x-h264,stream-format=byte-stream,alignment=au ! %s",
                            source, OVER_RATE_FPS, s->fps * 2, s->bitrate, pay);
  return g_strdup_printf ("%s ! x264enc tune=zerolatency speed-preset=superfast key-int-max=%d bitrate=%d"
                          " threads=1 sliced-threads=false ! video/x-h264,profile=main ! h264parse"
                          " ! video/x-h264,stream-format=byte-stream,alignment=au ! identity name=au ! %s",
                          source, s->fps * 2, s->bitrate, pay);
}

static gboolean
start_stream (Client *c)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *launch = stream_launch ();
  GstElement *pipeline = gst_parse_launch (launch, &error);
  g_autoptr (GstElement) sink = NULL;
  g_autoptr (GstBus) bus = NULL;

  if (!pipeline) {
    g_warning ("stream pipeline: %s", error->message);
    return FALSE;
  }
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "out");
  GstAppSinkCallbacks callbacks = { .new_sample = on_rtp };
  gst_app_sink_set_callbacks (GST_APP_SINK (sink), &callbacks, c, NULL);
  bus = gst_element_get_bus (pipeline);
  gst_bus_set_sync_handler (bus, on_bus, NULL, NULL);
  if (mode_is ("no-keyframe")) {
    g_autoptr (GstElement) au = gst_bin_get_by_name (GST_BIN (pipeline), "au");
    g_autoptr (GstPad) pad = gst_element_get_static_pad (au, "src");
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, strip_idr, NULL, NULL);
  }
  if (mode_is ("h265-as-h264")) {
    g_autoptr (GstElement) h265 = gst_bin_get_by_name (GST_BIN (pipeline), "h265");
    GstElement *relabel = gst_bin_get_by_name (GST_BIN (pipeline), "relabel");
    GstAppSinkCallbacks bridge = { .new_sample = relabel_h265 };
    gst_app_sink_set_callbacks (GST_APP_SINK (h265), &bridge, relabel, gst_object_unref);
  }
  if (mode_is ("resolution-switch"))
    c->sizefilter = gst_bin_get_by_name (GST_BIN (pipeline), "size");
  c->pipeline = pipeline;
  return gst_element_set_state (pipeline, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE;
}

static char *
sdp (const Client *c)
{
  GInetSocketAddress *local = G_INET_SOCKET_ADDRESS (g_socket_connection_get_local_address (c->conn, NULL));
  g_autofree char *ip = local ? g_inet_address_to_string (g_inet_socket_address_get_address (local))
                              : g_strdup ("0.0.0.0");
  g_autofree char *media = NULL;

  g_clear_object (&local);
  if (mode_is ("lying-sdp-codec"))
    media = g_strdup ("a=rtpmap:96 H265/90000\r\n");
  else if (mode_is ("lying-sdp-size"))
    media = g_strdup_printf ("a=rtpmap:96 H264/90000\r\n"
                             "a=fmtp:96 packetization-mode=1;profile-level-id=%s;sprop-parameter-sets=%s\r\n"
                             "a=x-dimensions:%d,%d\r\na=framesize:96 %d-%d\r\n",
                             lie_profile, lie_sprop, LIE_WIDTH, LIE_HEIGHT, LIE_WIDTH, LIE_HEIGHT);
  else if (mode_is ("oversized-sdp"))
    media = g_strdup_printf ("a=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1;profile-level-id=4d401f\r\n"
                             "a=x-dimensions:%d,%d\r\na=framesize:96 %d-%d\r\n",
                             OVERSIZED_WIDTH, OVERSIZED_HEIGHT, OVERSIZED_WIDTH, OVERSIZED_HEIGHT);
  else
    media = g_strdup ("a=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1;profile-level-id=4d401f\r\n");
  /* control-elsewhere: the stream's control URL is absolute, on --location's host. */
  g_autofree char *control = mode_is ("control-elsewhere") ? g_strdup_printf ("%s/trackID=1", settings->location)
                                                           : g_strdup ("trackID=1");
  return g_strdup_printf ("v=0\r\no=- 1 1 IN IP4 %s\r\ns=cordon-testcam hostile %s\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\n"
                          "a=control:*\r\na=range:npt=0-\r\nm=video 0 RTP/AVP 96\r\n%sa=control:%s\r\n",
                          ip, settings->mode, media, control);
}

/* ---- one connection ---- */

static void
serve (Client *c, guint session)
{
  g_autoptr (GByteArray) buf = g_byte_array_new ();
  Request req = { 0 };
  g_autofree char *session_hdr = g_strdup_printf ("Session: %08x;timeout=60\r\n", session);

  while (read_request (c, buf, &req)) {
    const char *m = req.method;

    if (c->stalled)
      continue;
    if (mode_is ("garbage")) {
      g_message ("%s: %s: answering with binary garbage", c->peer, m);
      send_garbage (c);
      break;
    }
    if (mode_is ("huge-headers")) {
      g_message ("%s: %s: answering with an endless header block", c->peer, m);
      send_huge_headers (c, req.cseq);
      drain (c);
      break;
    }
    if (mode_is ("basic-auth") && !g_str_equal (m, "OPTIONS")
        && !(req.authorization && g_ascii_strncasecmp (req.authorization, "Basic ", 6) == 0)) {
      g_message ("%s: %s: demanding Basic authentication", c->peer, m);
      respond (c, req.cseq, "401 Unauthorized", "WWW-Authenticate: Basic realm=\"cordon-testcam\"\r\n", NULL);
      continue;
    }
    if (mode_is ("basic-auth") && req.authorization && !c->pipeline)
      g_message ("%s: %s: got Basic credentials", c->peer, m);
    if (g_str_equal (m, "DESCRIBE") && (mode_is ("redirect") || mode_is ("redirect-name"))) {
      g_autofree char *to = mode_is ("redirect") ? g_strdup (settings->location)
                                                 : g_strdup_printf ("rtsp://%s/stolen", REDIRECT_NAME);
      g_autofree char *h = g_strdup_printf ("Location: %s\r\n", to);
      g_message ("%s: DESCRIBE: redirecting to %s", c->peer, to);
      respond (c, req.cseq, "302 Moved Temporarily", h, NULL);
      continue;
    }
    if (g_str_equal (m, "OPTIONS")) {
      respond (c, req.cseq, "200 OK", "Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER\r\n", NULL);
    } else if (g_str_equal (m, "DESCRIBE") && mode_is ("stall")) {
      static const char half[] = "RTSP/1.0 200 OK\r\nContent-Type: application/sdp\r\nContent-Ba";
      g_message ("%s: DESCRIBE: sending half a response, then silence", c->peer);
      send_all (c, half, sizeof half - 1, 5);
      c->stalled = TRUE;
    } else if (g_str_equal (m, "DESCRIBE")) {
      g_autofree char *body = sdp (c);
      g_autofree char *base = g_strdup_printf ("Content-Type: application/sdp\r\nContent-Base: %s/\r\n", req.url);
      respond (c, req.cseq, "200 OK", base, body);
    } else if (g_str_equal (m, "SETUP") && mode_is ("control-elsewhere")) {
      g_message ("%s: SETUP %s", c->peer, req.url);
      respond (c, req.cseq, "454 Session Not Found", NULL, NULL);
    } else if (g_str_equal (m, "SETUP")) {
      if (req.transport && strstr (req.transport, "RTP/AVP/TCP")) {
        g_autofree char *h = g_strdup_printf ("%sTransport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n", session_hdr);
        respond (c, req.cseq, "200 OK", h, NULL);
      } else {
        respond (c, req.cseq, "461 Unsupported Transport", NULL, NULL);
      }
    } else if (g_str_equal (m, "PLAY")) {
      g_autofree char *h = g_strdup_printf ("%sRange: npt=0.000-\r\n", session_hdr);
      respond (c, req.cseq, "200 OK", h, NULL);
      if (!c->pipeline) {
        g_message ("%s: PLAY: streaming (%s)", c->peer, settings->mode);
        if (!start_stream (c))
          break;
      }
    } else if (g_str_equal (m, "GET_PARAMETER") || g_str_equal (m, "SET_PARAMETER")) {
      respond (c, req.cseq, "200 OK", session_hdr, NULL);
    } else if (g_str_equal (m, "TEARDOWN")) {
      respond (c, req.cseq, "200 OK", NULL, NULL);
      break;
    } else {
      respond (c, req.cseq, "501 Not Implemented", NULL, NULL);
    }
  }
  request_clear (&req);
}

static gboolean
on_run (GThreadedSocketService *svc, GSocketConnection *connection, GObject *source, gpointer data)
{
  Client *c = g_new0 (Client, 1);
  GSocket *socket = g_socket_connection_get_socket (connection);
  g_autoptr (GSocketAddress) remote = g_socket_connection_get_remote_address (connection, NULL);
  guint session = (guint) g_atomic_int_add (&session_ids, 1) + 0x5e55;

  g_atomic_int_inc (&active);
  g_mutex_init (&c->write_lock);
  c->conn = connection;
  c->out = g_io_stream_get_output_stream (G_IO_STREAM (connection));
  c->peer = remote ? g_inet_address_to_string (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (remote)))
                   : g_strdup ("?");
  /* Reads wake up every second to notice a stop; writes that block that
   * long are retried within each caller's patience. */
  g_socket_set_timeout (socket, 1);
  g_message ("%s: connected", c->peer);

  serve (c, session);

  g_mutex_lock (&c->write_lock);
  c->dead = TRUE;
  g_mutex_unlock (&c->write_lock);
  if (c->pipeline) {
    gst_element_set_state (c->pipeline, GST_STATE_NULL);
    gst_object_unref (c->pipeline);
  }
  gst_clear_object (&c->sizefilter);
  g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
  g_message ("%s: closed after %" G_GUINT64_FORMAT " bytes", c->peer, c->sent);
  g_free (c->peer);
  g_mutex_clear (&c->write_lock);
  g_free (c);
  g_atomic_int_dec_and_test (&active);
  return TRUE;
}

/* lying-sdp-size: the parameter sets of a real 3840x2160 stream for the
 * SDP's sprop-parameter-sets, from one encoded picture. */
static gboolean
make_lie (GError **error)
{
  g_autofree char *launch = g_strdup_printf ("videotestsrc num-buffers=1 ! video/x-raw,format=I420,width=%d,height=%d,"
                                             "framerate=%d/1 ! x264enc speed-preset=ultrafast tune=zerolatency"
                                             " ! video/x-h264,profile=main ! h264parse ! rtph264pay"
                                             " ! appsink name=out sync=false",
                                             LIE_WIDTH, LIE_HEIGHT, settings->fps);
  g_autoptr (GstElement) pipeline = gst_parse_launch (launch, error);
  g_autoptr (GstElement) sink = NULL;
  g_autoptr (GstSample) sample = NULL;
  const GstStructure *s;

  if (!pipeline)
    return FALSE;
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "out");
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink), 20 * GST_SECOND);
  s = sample ? gst_caps_get_structure (gst_sample_get_caps (sample), 0) : NULL;
  if (s) {
    lie_sprop = g_strdup (gst_structure_get_string (s, "sprop-parameter-sets"));
    lie_profile = g_strdup (gst_structure_get_string (s, "profile-level-id"));
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  if (!lie_sprop || !lie_profile) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot make the %dx%d parameter sets", LIE_WIDTH, LIE_HEIGHT);
    return FALSE;
  }
  return TRUE;
}

gboolean
testcam_hostile_start (const TestcamHostile *s, GError **error)
{
  g_autoptr (GInetAddress) address = g_inet_address_new_from_string (s->host);
  g_autoptr (GSocketAddress) sa = NULL;

  settings = s;
  if (!testcam_hostile_mode_valid (s->mode)) {
    g_autofree char *all = g_strjoinv (", ", (char **) testcam_hostile_modes);
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "--hostile: %s is none of %s", s->mode, all);
    return FALSE;
  }
  if (!address) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "%s is not an IP address", s->host);
    return FALSE;
  }
  if ((mode_is ("redirect") || mode_is ("control-elsewhere"))
      && (!s->location || !g_str_has_prefix (s->location, "rtsp://"))) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "--hostile %s needs --location rtsp://...", s->mode);
    return FALSE;
  }
  if (mode_is ("lying-sdp-size") && !make_lie (error))
    return FALSE;
  sa = g_inet_socket_address_new (address, s->port);
  service = g_threaded_socket_service_new (64);
  if (!g_socket_listener_add_address (G_SOCKET_LISTENER (service), sa, G_SOCKET_TYPE_STREAM,
                                      G_SOCKET_PROTOCOL_TCP, NULL, NULL, error)) {
    g_clear_object (&service);
    return FALSE;
  }
  g_signal_connect (service, "run", G_CALLBACK (on_run), NULL);
  g_socket_service_start (service);
  return TRUE;
}

/* Stops accepting and waits (up to 5 s) for the connection threads. */
void
testcam_hostile_stop (void)
{
  if (!service)
    return;
  g_atomic_int_set (&stopping, 1);
  g_socket_service_stop (service);
  g_socket_listener_close (G_SOCKET_LISTENER (service));
  for (int i = 0; i < 50 && g_atomic_int_get (&active) > 0; i++)
    g_usleep (100 * 1000);
  g_clear_pointer (&lie_sprop, g_free);
  g_clear_pointer (&lie_profile, g_free);
}
