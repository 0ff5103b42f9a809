/* cordon-testcam — an RTSP server that behaves like a Hikvision or Dahua
 * camera, with hooks for the faults and markers cordon's tests look for. */
#define G_LOG_DOMAIN "cordon-testcam"

#include "barcode.h"
#include "config.h"
#include "hostile.h"
#include "metadata.h"
#include "still.h"

#include <gio/gio.h>
#include <glib-unix.h>
#include <gst/gst.h>
#include <gst/rtsp-server/rtsp-server.h>
#include <gst/video/video.h>
#include <signal.h>
#include <string.h>

/* Private NALs above this size go out as FU-A/FU fragments. Depayloaders
 * drop a single-NAL RTP packet whose type is undefined (H.264 24–31 and
 * H.265 48–63 are RTP aggregation/fragment types), but reassemble fragments
 * of any type. */
#define PRIVATE_NAL_SIZE 1600

static const guint8 sei_uuid[16] = {
  0xc0, 0x4d, 0x0f, 0x9e, 0x7e, 0x57, 0xca, 0x3a,
  0x8b, 0x1d, 0x5e, 0x1f, 0x72, 0x6b, 0x63, 0x61,
};

typedef struct {
  char *listen;
  char *codec;
  char *size;
  int fps;
  int bitrate;
  char *username;
  char *password_file;
  char *pattern;
  gboolean audio;
  char *inject_sei;
  char *inject_private_nal;
  char *inject_metadata;
  int corrupt_every;
  gboolean timestamp_overlay;
  char *hostile;
  char *location;

  gboolean h265;
  int width, height;
  GBytes *injected;      /* NALs with start codes, put before every IDR */
  GBytes *metadata;      /* SEI NALs with start codes, put in every access unit */
  guint8 *still;         /* --pattern still: the I420 picture, packed */
} Testcam;

/* State of one media (one encoder, shared by every client). */
typedef struct {
  guint64 frames;        /* access units seen, for --corrupt-every */
} MediaState;

static Testcam cam = {
  .fps = 25,
  .bitrate = 2000,
};

static GOptionEntry entries[] = {
  { "listen", 0, 0, G_OPTION_ARG_STRING, &cam.listen, "Address to bind (default 127.0.0.1:8554)", "ADDR:PORT" },
  { "codec", 0, 0, G_OPTION_ARG_STRING, &cam.codec, "h264 or h265 (default h264)", "CODEC" },
  { "size", 0, 0, G_OPTION_ARG_STRING, &cam.size, "Picture size (default 1280x720)", "WxH" },
  { "fps", 0, 0, G_OPTION_ARG_INT, &cam.fps, "Frames per second (default 25)", "N" },
  { "bitrate", 0, 0, G_OPTION_ARG_INT, &cam.bitrate, "Video bit rate (default 2000)", "KBITS" },
  { "username", 0, 0, G_OPTION_ARG_STRING, &cam.username, "Require RTSP digest auth as this user", "U" },
  { "password-file", 0, 0, G_OPTION_ARG_FILENAME, &cam.password_file, "File holding the password", "F" },
  { "pattern", 0, 0, G_OPTION_ARG_STRING, &cam.pattern, "moving or still (default moving)", "PATTERN" },
  { "audio", 0, 0, G_OPTION_ARG_NONE, &cam.audio, "Add a PCMA 8 kHz mono track", NULL },
  { "inject-sei", 0, 0, G_OPTION_ARG_STRING, &cam.inject_sei, "Put a user-data SEI with MARKER before every IDR", "MARKER" },
  { "inject-private-nal", 0, 0, G_OPTION_ARG_STRING, &cam.inject_private_nal, "Put an unspecified-type NAL with MARKER before every IDR", "MARKER" },
  { "inject-metadata", 0, 0, G_OPTION_ARG_STRING, &cam.inject_metadata, "Put captions, AFD, bar data, time code, "
    "user data (and HDR on H.265) SEI in every access unit; MARKER in the captions and user data", "MARKER" },
  { "corrupt-every", 0, 0, G_OPTION_ARG_INT, &cam.corrupt_every, "Corrupt the slice data of every Nth frame", "N" },
  { "timestamp-overlay", 0, 0, G_OPTION_ARG_NONE, &cam.timestamp_overlay, "Draw the capture time as a bar code", NULL },
  { "hostile", 0, 0, G_OPTION_ARG_STRING, &cam.hostile, "Misbehave: garbage, huge-headers, stall, lying-sdp-codec, "
    "lying-sdp-size, h265-as-h264, no-keyframe, resolution-switch, redirect, redirect-name, basic-auth, "
    "oversized-sdp, over-rate, flood or control-elsewhere (README.md)", "MODE" },
  { "location", 0, 0, G_OPTION_ARG_STRING, &cam.location, "--hostile redirect: answer DESCRIBE with 302 to URL; control-elsewhere: the SDP's control URL", "URL" },
  { NULL }
};

/* ---- NAL building ---- */

/* Escapes an RBSP into NAL payload: 00 00 0x (x <= 3) becomes 00 00 03 0x. */
static void
append_escaped (GByteArray *out, const guint8 *rbsp, gsize len)
{
  int zeros = 0;

  for (gsize i = 0; i < len; i++) {
    if (zeros >= 2 && rbsp[i] <= 3) {
      static const guint8 epb = 3;
      g_byte_array_append (out, &epb, 1);
      zeros = 0;
    }
    g_byte_array_append (out, &rbsp[i], 1);
    zeros = rbsp[i] == 0 ? zeros + 1 : 0;
  }
}

static void
append_start_code (GByteArray *out)
{
  static const guint8 start[] = { 0, 0, 0, 1 };
  g_byte_array_append (out, start, sizeof start);
}

/* H.264 NAL header is one byte, H.265's two (layer 0, temporal id 0). */
static void
append_nal_header (GByteArray *out, int type)
{
  if (cam.h265) {
    guint8 h[2] = { (guint8) (type << 1), 1 };
    g_byte_array_append (out, h, 2);
  } else {
    guint8 h = (guint8) type;
    g_byte_array_append (out, &h, 1);
  }
}

static void
append_sei (GByteArray *out, const char *marker)
{
  g_autoptr (GByteArray) rbsp = g_byte_array_new ();
  gsize size = sizeof sei_uuid + strlen (marker);
  guint8 byte = 5;  /* user_data_unregistered */

  g_byte_array_append (rbsp, &byte, 1);
  for (byte = 0xff; size >= 255; size -= 255)
    g_byte_array_append (rbsp, &byte, 1);
  byte = (guint8) size;
  g_byte_array_append (rbsp, &byte, 1);
  g_byte_array_append (rbsp, sei_uuid, sizeof sei_uuid);
  g_byte_array_append (rbsp, (const guint8 *) marker, strlen (marker));
  byte = 0x80;  /* rbsp_trailing_bits */
  g_byte_array_append (rbsp, &byte, 1);

  append_start_code (out);
  append_nal_header (out, cam.h265 ? 39 : 6);
  append_escaped (out, rbsp->data, rbsp->len);
}

/* One SEI NAL holding MESSAGE (sei_message() RBSP bytes). */
static void
append_sei_message (GByteArray *out, const GByteArray *message)
{
  g_autoptr (GByteArray) rbsp = g_byte_array_new ();
  guint8 byte = 0x80;  /* rbsp_trailing_bits */

  g_byte_array_append (rbsp, message->data, message->len);
  g_byte_array_append (rbsp, &byte, 1);
  append_start_code (out);
  append_nal_header (out, cam.h265 ? 39 : 6);
  append_escaped (out, rbsp->data, rbsp->len);
}

static void
append_private_nal (GByteArray *out, const char *marker)
{
  g_autoptr (GByteArray) rbsp = g_byte_array_new ();
  guint8 byte = 0xaa;

  g_byte_array_append (rbsp, (const guint8 *) marker, strlen (marker));
  while (rbsp->len < PRIVATE_NAL_SIZE)
    g_byte_array_append (rbsp, &byte, 1);
  byte = 0x80;
  g_byte_array_append (rbsp, &byte, 1);

  append_start_code (out);
  append_nal_header (out, cam.h265 ? 63 : 31);
  append_escaped (out, rbsp->data, rbsp->len);
}

/* ---- access unit probe: injection and corruption ---- */

typedef struct {
  gsize offset;  /* of the first header byte */
  gsize size;    /* header and payload, without trailing zeros */
} Nal;

/* Splits an Annex B access unit at its start codes. */
static GArray *
split_nals (const guint8 *data, gsize len)
{
  GArray *nals = g_array_new (FALSE, FALSE, sizeof (Nal));
  gsize i = 0;
  gssize start = -1;

  while (i + 3 <= len) {
    if (data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1) {
      if (start >= 0) {
        Nal nal = { (gsize) start, i - (gsize) start };
        g_array_append_val (nals, nal);
      }
      i += 3;
      start = (gssize) i;
    } else {
      i++;
    }
  }
  if (start >= 0 && (gsize) start < len) {
    Nal nal = { (gsize) start, len - (gsize) start };
    g_array_append_val (nals, nal);
  }
  for (guint n = 0; n < nals->len; n++) {
    Nal *nal = &g_array_index (nals, Nal, n);
    while (nal->size > 0 && data[nal->offset + nal->size - 1] == 0)
      nal->size--;
  }
  return nals;
}

static int
nal_type (const guint8 *nal)
{
  return cam.h265 ? (nal[0] >> 1) & 0x3f : nal[0] & 0x1f;
}

static gboolean
is_vcl (int type)
{
  return cam.h265 ? type < 32 : (type >= 1 && type <= 5);
}

/* H.265 IRAP pictures (BLA, IDR, CRA) start a GOP as IDR does in H.264. */
static gboolean
is_keyframe (int type)
{
  return cam.h265 ? (type >= 16 && type <= 21) : type == 5;
}

/* x264's own pic_timing SEI (written because --inject-metadata turns on
 * pic-struct): ours, with a clock timestamp, replaces it. */
static gboolean
is_x264_pic_timing (const guint8 *nal, gsize size)
{
  return !cam.h265 && size >= 2 && (nal[0] & 0x1f) == 6 && nal[1] == 1;
}

static GstPadProbeReturn
on_access_unit (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  MediaState *state = user_data;
  GstBuffer *in = GST_PAD_PROBE_INFO_BUFFER (info);
  g_autoptr (GByteArray) out = NULL;
  g_autoptr (GArray) nals = NULL;
  GstMapInfo map;
  gboolean keyframe = FALSE, corrupt, injected = FALSE, tagged = FALSE;

  state->frames++;
  corrupt = cam.corrupt_every > 0 && state->frames % (guint64) cam.corrupt_every == 0;
  if (!gst_buffer_map (in, &map, GST_MAP_READ))
    return GST_PAD_PROBE_OK;
  nals = split_nals (map.data, map.size);
  for (guint n = 0; n < nals->len; n++) {
    const Nal *nal = &g_array_index (nals, Nal, n);
    if (nal->size > 0 && is_keyframe (nal_type (map.data + nal->offset)))
      keyframe = TRUE;
  }
  if (!(keyframe && cam.injected) && !corrupt && !cam.metadata) {
    gst_buffer_unmap (in, &map);
    return GST_PAD_PROBE_OK;
  }

  out = g_byte_array_sized_new ((guint) map.size + 4096);
  for (guint n = 0; n < nals->len; n++) {
    const Nal *nal = &g_array_index (nals, Nal, n);
    const guint8 *p = map.data + nal->offset;
    int type;
    if (nal->size == 0 || (cam.metadata && is_x264_pic_timing (p, nal->size)))
      continue;
    type = nal_type (p);
    /* After the parameter sets, before the first slice: where an SEI
     * belongs and where a camera would put its own NALs. */
    if (keyframe && cam.injected && !injected && is_vcl (type)) {
      gsize len;
      const guint8 *bytes = g_bytes_get_data (cam.injected, &len);
      g_byte_array_append (out, bytes, (guint) len);
      injected = TRUE;
    }
    if (cam.metadata && !tagged && is_vcl (type)) {
      gsize len;
      const guint8 *bytes = g_bytes_get_data (cam.metadata, &len);
      g_byte_array_append (out, bytes, (guint) len);
      tagged = TRUE;
    }
    append_start_code (out);
    g_byte_array_append (out, p, (guint) nal->size);
    /* Overwrite the middle of the slice data, well past the slice header.
     * 0x55 never forms a start code with its neighbours. */
    if (corrupt && is_vcl (type) && nal->size >= 64) {
      gsize from = out->len - nal->size + nal->size / 3;
      gsize count = nal->size / 3;
      memset (out->data + from, 0x55, count);
    }
  }
  gst_buffer_unmap (in, &map);

  {
    gsize len = out->len;
    GstBuffer *buf = gst_buffer_new_wrapped (g_byte_array_free (g_steal_pointer (&out), FALSE), len);
    gst_buffer_copy_into (buf, in, GST_BUFFER_COPY_FLAGS | GST_BUFFER_COPY_TIMESTAMPS | GST_BUFFER_COPY_META, 0, -1);
    gst_buffer_unref (in);
    GST_PAD_PROBE_INFO_DATA (info) = buf;
  }
  return GST_PAD_PROBE_OK;
}

/* ---- raw video probe: still picture, time-stamp bar code ---- */

static void
copy_still (GstVideoFrame *frame)
{
  const guint8 *src = cam.still;

  for (guint plane = 0; plane < 3; plane++) {
    int width = GST_VIDEO_FRAME_COMP_WIDTH (frame, plane);
    int height = GST_VIDEO_FRAME_COMP_HEIGHT (frame, plane);
    guint8 *dst = GST_VIDEO_FRAME_PLANE_DATA (frame, plane);
    int stride = GST_VIDEO_FRAME_PLANE_STRIDE (frame, plane);
    for (int y = 0; y < height; y++, src += width)
      memcpy (dst + (gsize) y * stride, src, width);
  }
}

static GstPadProbeReturn
on_raw_frame (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  GstVideoInfo *vinfo = user_data;
  GstBuffer *buf = gst_buffer_make_writable (GST_PAD_PROBE_INFO_BUFFER (info));
  guint64 now_ms = (guint64) g_get_real_time () / 1000;
  GstVideoFrame frame;

  GST_PAD_PROBE_INFO_DATA (info) = buf;
  if (!gst_video_frame_map (&frame, vinfo, buf, GST_MAP_WRITE))
    return GST_PAD_PROBE_OK;
  if (cam.still)
    copy_still (&frame);
  if (cam.timestamp_overlay) {
    cordon_barcode_encode (GST_VIDEO_FRAME_PLANE_DATA (&frame, 0),
                           GST_VIDEO_FRAME_WIDTH (&frame), GST_VIDEO_FRAME_HEIGHT (&frame),
                           GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0), now_ms);
    /* Grey chroma under the strip, so colour never bleeds into the code. */
    for (guint plane = 1; plane < 3; plane++) {
      int rows = (cordon_barcode_strip_height (GST_VIDEO_FRAME_HEIGHT (&frame)) + 1) / 2;
      guint8 *data = GST_VIDEO_FRAME_PLANE_DATA (&frame, plane);
      int stride = GST_VIDEO_FRAME_PLANE_STRIDE (&frame, plane);
      for (int y = 0; y < rows; y++)
        memset (data + (gsize) y * stride, 128, GST_VIDEO_FRAME_COMP_WIDTH (&frame, plane));
    }
  }
  gst_video_frame_unmap (&frame);
  return GST_PAD_PROBE_OK;
}

static void
add_probe (GstElement *bin, const char *name, const char *pad_name,
           GstPadProbeCallback cb, gpointer data, GDestroyNotify destroy)
{
  g_autoptr (GstElement) element = gst_bin_get_by_name (GST_BIN (bin), name);
  g_autoptr (GstPad) pad = gst_element_get_static_pad (element, pad_name);
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, cb, data, destroy);
}

/* gst-rtsp-server 1.22 links a stream's RTP output only once a client has
 * set that stream up. Until then a push into it returns not-linked and the
 * source posts an error that takes the whole shared media down: the camera
 * would refuse every client after one that asked for video only (as cordon
 * does). A real camera just does not send what nobody asked for. */
static GstPadProbeReturn
drop_while_unlinked (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  return gst_pad_is_linked (pad) ? GST_PAD_PROBE_OK : GST_PAD_PROBE_DROP;
}

/* After prepare: the server prerolls by blocking each stream's RTP output
 * until a buffer arrives there, so nothing may be dropped before that. */
static void
on_media_prepared (GstRTSPMedia *media, gpointer user_data)
{
  for (guint i = 0; i < gst_rtsp_media_n_streams (media); i++) {
    GstRTSPStream *stream = gst_rtsp_media_get_stream (media, i);
    g_autoptr (GstPad) pay_src = gst_rtsp_stream_get_srcpad (stream);
    g_autoptr (GstPad) rtpbin_sink = pay_src ? gst_pad_get_peer (pay_src) : NULL;
    g_autoptr (GstElement) rtpbin = rtpbin_sink ? gst_pad_get_parent_element (rtpbin_sink) : NULL;
    g_autofree char *name = g_strdup_printf ("send_rtp_src_%u", gst_rtsp_stream_get_index (stream));
    g_autoptr (GstPad) rtp_out = rtpbin ? gst_element_get_static_pad (rtpbin, name) : NULL;

    if (!rtp_out) {
      g_warning ("stream %u: no %s pad; a client setting up only some streams may stop the media", i, name);
      continue;
    }
    gst_pad_add_probe (rtp_out, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST,
                       drop_while_unlinked, NULL, NULL);
  }
}

static void
on_media_configure (GstRTSPMediaFactory *factory, GstRTSPMedia *media, gpointer user_data)
{
  g_autoptr (GstElement) bin = gst_rtsp_media_get_element (media);

  g_signal_connect (media, "prepared", G_CALLBACK (on_media_prepared), NULL);
  if (cam.injected || cam.metadata || cam.corrupt_every > 0)
    add_probe (bin, "au", "src", on_access_unit, g_new0 (MediaState, 1), g_free);
  if (cam.still || cam.timestamp_overlay) {
    GstVideoInfo *vinfo = gst_video_info_new ();
    gst_video_info_set_format (vinfo, GST_VIDEO_FORMAT_I420, cam.width, cam.height);
    add_probe (bin, "enc", "sink", on_raw_frame, vinfo, (GDestroyNotify) gst_video_info_free);
  }
}

/* A camera is live and ignores Range. gst-rtsp-server would seek the shared
 * media to the npt=0 that ffmpeg sends, restarting every other client's
 * timestamps. */
static GstRTSPStatusCode
on_pre_play_request (GstRTSPClient *client, GstRTSPContext *ctx, gpointer user_data)
{
  gst_rtsp_message_remove_header (ctx->request, GST_RTSP_HDR_RANGE, -1);
  return GST_RTSP_STS_OK;
}

/* Like most cameras, start a new viewer on a key frame instead of making it
 * wait for the next GOP. */
static void
on_play_request (GstRTSPClient *client, GstRTSPContext *ctx, gpointer user_data)
{
  g_autoptr (GstElement) bin = NULL;
  g_autoptr (GstElement) pay = NULL;

  if (!ctx->media)
    return;
  bin = gst_rtsp_media_get_element (ctx->media);
  pay = gst_bin_get_by_name (GST_BIN (bin), "pay0");
  if (pay)
    gst_element_send_event (pay, gst_video_event_new_upstream_force_key_unit (GST_CLOCK_TIME_NONE, TRUE, 0));
}

static void
on_client_connected (GstRTSPServer *server, GstRTSPClient *client, gpointer user_data)
{
  g_signal_connect (client, "pre-play-request", G_CALLBACK (on_pre_play_request), NULL);
  g_signal_connect (client, "play-request", G_CALLBACK (on_play_request), NULL);
}

/* One media for every path and query string: a camera has one encoder per
 * channel whichever URL style a client uses. (The default key is the URL.) */
#define TESTCAM_TYPE_FACTORY (testcam_factory_get_type ())
G_DECLARE_FINAL_TYPE (TestcamFactory, testcam_factory, TESTCAM, FACTORY, GstRTSPMediaFactory)

struct _TestcamFactory {
  GstRTSPMediaFactory parent;
};

G_DEFINE_TYPE (TestcamFactory, testcam_factory, GST_TYPE_RTSP_MEDIA_FACTORY)

static char *
testcam_factory_gen_key (GstRTSPMediaFactory *factory, const GstRTSPUrl *url)
{
  return g_strdup ("channel-1");
}

static void
testcam_factory_class_init (TestcamFactoryClass *klass)
{
  GST_RTSP_MEDIA_FACTORY_CLASS (klass)->gen_key = testcam_factory_gen_key;
}

static void
testcam_factory_init (TestcamFactory *factory)
{
}

/* ---- setup ---- */

/* Main profile, no B-frames, one slice per picture, a key frame every 2 s:
 * what a camera sends. One slice also because rtph264pay 1.22 with
 * config-interval=-1 puts SPS/PPS before every IDR slice, which splits a
 * multi-slice IDR picture into two access units at the receiver. */
static char *
launch_line (void)
{
  const char *source = g_str_equal (cam.pattern, "still")
    ? "videotestsrc is-live=true pattern=black"  /* painted over in on_raw_frame */
    : "videotestsrc is-live=true pattern=smpte horizontal-speed=4";
  g_autofree char *encoder = cam.h265
    ? g_strdup_printf ("x265enc name=enc tune=zerolatency speed-preset=ultrafast key-int-max=%d bitrate=%d"
                       " ! h265parse ! video/x-h265,stream-format=byte-stream,alignment=au"
                       " ! identity name=au ! rtph265pay name=pay0 pt=96 config-interval=-1",
                       cam.fps * 2, cam.bitrate)
    : g_strdup_printf ("x264enc name=enc tune=zerolatency speed-preset=superfast key-int-max=%d bitrate=%d"
                       " threads=1 sliced-threads=false%s ! video/x-h264,profile=main"
                       " ! h264parse ! video/x-h264,stream-format=byte-stream,alignment=au"
                       " ! identity name=au ! rtph264pay name=pay0 pt=96 config-interval=-1",
                       cam.fps * 2, cam.bitrate,
                       /* pic_struct_present_flag in the VUI: a pic_timing
                        * clock timestamp is read only then. */
                       cam.inject_metadata ? " option-string=pic-struct=1" : "");
  const char *audio = cam.audio
    ? " audiotestsrc is-live=true wave=sine ! audio/x-raw,rate=8000,channels=1"
      " ! alawenc ! rtppcmapay name=pay1 pt=8"
    : "";

  return g_strdup_printf ("( %s ! video/x-raw,format=I420,width=%d,height=%d,framerate=%d/1"
                          " ! %s%s )", source, cam.width, cam.height, cam.fps, encoder, audio);
}

static char *
read_password (const char *path, GError **error)
{
  g_autofree char *text = NULL;

  if (!g_file_get_contents (path, &text, NULL, error))
    return NULL;
  text[strcspn (text, "\r\n")] = '\0';
  if (text[0] == '\0') {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s: password file is empty", path);
    return NULL;
  }
  return g_steal_pointer (&text);
}

static gboolean
check_options (GError **error)
{
  g_auto (GStrv) size = NULL;
  gint64 width, height;

  if (!cam.listen)
    cam.listen = g_strdup ("127.0.0.1:8554");
  if (!cam.codec)
    cam.codec = g_strdup ("h264");
  if (!cam.size)
    cam.size = g_strdup ("1280x720");
  if (!cam.pattern)
    cam.pattern = g_strdup ("moving");

  if (g_str_equal (cam.codec, "h265"))
    cam.h265 = TRUE;
  else if (!g_str_equal (cam.codec, "h264")) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "--codec: %s is neither h264 nor h265", cam.codec);
    return FALSE;
  }
  size = g_strsplit (cam.size, "x", 2);
  if (g_strv_length (size) != 2
      || !g_ascii_string_to_signed (size[0], 10, 64, 8192, &width, NULL)
      || !g_ascii_string_to_signed (size[1], 10, 16, 8192, &height, NULL)) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "--size: %s is not WxH", cam.size);
    return FALSE;
  }
  cam.width = (int) width;
  cam.height = (int) height;
  if (cam.width % 2 || cam.height % 2) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "--size: %s must be even", cam.size);
    return FALSE;
  }
  if (cam.fps < 1 || cam.fps > 120 || cam.bitrate < 16 || cam.corrupt_every < 0) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "--fps, --bitrate or --corrupt-every out of range");
    return FALSE;
  }
  if (cam.hostile && (cam.h265 || cam.username || cam.audio || cam.inject_sei || cam.inject_private_nal
                      || cam.inject_metadata || cam.corrupt_every || cam.timestamp_overlay || !g_str_equal (cam.pattern, "moving"))) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                 "--hostile takes only --listen, --size, --fps, --bitrate and --location");
    return FALSE;
  }
  if (cam.hostile && !testcam_hostile_mode_valid (cam.hostile)) {
    g_autofree char *all = g_strjoinv (", ", (char **) testcam_hostile_modes);
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "--hostile: %s is none of %s", cam.hostile, all);
    return FALSE;
  }
  if (!g_str_equal (cam.pattern, "moving") && !g_str_equal (cam.pattern, "still")) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "--pattern: %s is neither moving nor still", cam.pattern);
    return FALSE;
  }
  if (!cam.username != !cam.password_file) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "--username and --password-file go together");
    return FALSE;
  }
  if (g_str_equal (cam.pattern, "still")) {
    int w = cam.width, h = cam.height;
    cam.still = g_malloc ((gsize) w * h * 3 / 2);
    cordon_testcam_still_draw (cam.still, w, cam.still + (gsize) w * h, w / 2,
                               cam.still + (gsize) w * h * 5 / 4, w / 2, w, h);
  }
  if (cam.inject_sei || cam.inject_private_nal) {
    g_autoptr (GByteArray) nals = g_byte_array_new ();
    if (cam.inject_sei)
      append_sei (nals, cam.inject_sei);
    if (cam.inject_private_nal)
      append_private_nal (nals, cam.inject_private_nal);
    cam.injected = g_byte_array_free_to_bytes (g_steal_pointer (&nals));
  }
  if (cam.inject_metadata) {
    g_autoptr (GByteArray) nals = g_byte_array_new ();
    g_autoptr (GPtrArray) all = testcam_metadata_build (cam.h265, cam.inject_metadata);
    for (guint i = 0; i < all->len; i++) {
      const TestcamMetadata *m = all->pdata[i];
      g_autofree char *hex = g_malloc0 (m->signature->len * 2 + 1);
      for (guint j = 0; j < m->signature->len; j++)
        g_snprintf (hex + 2 * j, 3, "%02x", m->signature->data[j]);
      append_sei_message (nals, m->message);
      /* tests/media/media.sh reads these lines: what to look for in a recording. */
      g_message ("metadata %s %s", m->kind, hex);
    }
    cam.metadata = g_byte_array_free_to_bytes (g_steal_pointer (&nals));
  }
  return TRUE;
}

/* ADDR:PORT or [ADDR6]:PORT, an IP literal: a camera binds one address. */
static gboolean
on_signal (gpointer loop)
{
  g_message ("signal received, stopping");
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GOptionContext) context = g_option_context_new ("- simulated IP camera for cordon's tests");
  g_autoptr (GMainLoop) loop = NULL;
  g_autoptr (GstRTSPServer) server = NULL;
  g_autoptr (GstRTSPMountPoints) mounts = NULL;
  g_autoptr (GstRTSPMediaFactory) factory = NULL;
  g_autofree char *host = NULL;
  guint16 port = 0;
  g_autoptr (GSource) source = NULL;
  g_autofree char *launch = NULL;
  g_autofree char *service = NULL;
  static const char *const paths[] = { "/Streaming/Channels/101", "/cam/realmonitor", "/test" };

  g_option_context_set_summary (context,
    "Serves one shared live stream at rtsp://ADDR:PORT/Streaming/Channels/101 (Hikvision),\n"
    "/cam/realmonitor?channel=1&subtype=0 (Dahua) and /test. See tests/testcam/README.md.");
  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_add_group (context, gst_init_get_option_group ());
  if (!g_option_context_parse (context, &argc, &argv, &error) || !check_options (&error)) {
    g_printerr ("cordon-testcam: %s\n", error->message);
    return 2;
  }

  if (!cordon_config_parse_hostport (cam.listen, &host, &port, &error)) {
    g_printerr ("cordon-testcam: --listen: %s\n", error->message);
    return 2;
  }

  if (cam.hostile) {
    TestcamHostile hostile = { cam.hostile, host, port, cam.width, cam.height, cam.fps, cam.bitrate, cam.location };
    if (!testcam_hostile_start (&hostile, &error)) {
      g_printerr ("cordon-testcam: cannot serve on %s: %s\n", cam.listen, error->message);
      return 1;
    }
    loop = g_main_loop_new (NULL, FALSE);
    g_unix_signal_add (SIGINT, on_signal, loop);
    g_unix_signal_add (SIGTERM, on_signal, loop);
    g_message ("listening on %s, hostile mode %s (video h264 %dx%d %d fps)", cam.listen, cam.hostile,
               cam.width, cam.height, cam.fps);
    g_main_loop_run (loop);
    testcam_hostile_stop ();
    return 0;
  }

  server = gst_rtsp_server_new ();
  gst_rtsp_server_set_address (server, host);
  service = g_strdup_printf ("%u", port);
  gst_rtsp_server_set_service (server, service);

  factory = g_object_new (TESTCAM_TYPE_FACTORY, NULL);
  launch = launch_line ();
  gst_rtsp_media_factory_set_launch (factory, launch);
  /* One encoder for every client and path, as on a camera. */
  gst_rtsp_media_factory_set_shared (factory, TRUE);
  g_signal_connect (factory, "media-configure", G_CALLBACK (on_media_configure), NULL);

  if (cam.username) {
    g_autoptr (GstRTSPAuth) auth = gst_rtsp_auth_new ();
    g_autoptr (GstRTSPToken) token = NULL;
    g_autoptr (GstRTSPPermissions) permissions = gst_rtsp_permissions_new ();
    g_autofree char *password = read_password (cam.password_file, &error);
    if (!password) {
      g_printerr ("cordon-testcam: --password-file: %s\n", error->message);
      return 2;
    }
    gst_rtsp_auth_set_supported_methods (auth, GST_RTSP_AUTH_DIGEST);
    token = gst_rtsp_token_new (GST_RTSP_TOKEN_MEDIA_FACTORY_ROLE, G_TYPE_STRING, "user", NULL);
    gst_rtsp_auth_add_digest (auth, cam.username, password, token);
    gst_rtsp_server_set_auth (server, auth);
    gst_rtsp_permissions_add_role (permissions, "user",
                                   GST_RTSP_PERM_MEDIA_FACTORY_ACCESS, G_TYPE_BOOLEAN, TRUE,
                                   GST_RTSP_PERM_MEDIA_FACTORY_CONSTRUCT, G_TYPE_BOOLEAN, TRUE, NULL);
    gst_rtsp_media_factory_set_permissions (factory, permissions);
  }

  g_signal_connect (server, "client-connected", G_CALLBACK (on_client_connected), NULL);
  mounts = gst_rtsp_server_get_mount_points (server);
  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    gst_rtsp_mount_points_add_factory (mounts, paths[i], g_object_ref (factory));

  source = gst_rtsp_server_create_source (server, NULL, &error);
  if (!source) {
    g_printerr ("cordon-testcam: cannot listen on %s: %s\n", cam.listen, error->message);
    return 1;
  }
  loop = g_main_loop_new (NULL, FALSE);
  g_source_attach (source, NULL);
  g_unix_signal_add (SIGINT, on_signal, loop);
  g_unix_signal_add (SIGTERM, on_signal, loop);

  g_message ("listening on %s (port %d)", cam.listen, gst_rtsp_server_get_bound_port (server));
  g_message ("mounts: %s, %s, %s", paths[0], paths[1], paths[2]);
  g_message ("video: %s %dx%d %d fps %d kbit/s, pattern %s%s",
             cam.codec, cam.width, cam.height, cam.fps, cam.bitrate, cam.pattern,
             cam.audio ? ", audio PCMA 8 kHz" : "");
  if (cam.username)
    g_message ("digest auth: user %s, password from %s", cam.username, cam.password_file);
  if (cam.inject_sei || cam.inject_private_nal || cam.corrupt_every || cam.timestamp_overlay)
    g_message ("faults: sei=%s private-nal=%s corrupt-every=%d timestamp-overlay=%s",
               cam.inject_sei ? cam.inject_sei : "-", cam.inject_private_nal ? cam.inject_private_nal : "-",
               cam.corrupt_every, cam.timestamp_overlay ? "yes" : "no");

  g_main_loop_run (loop);
  g_source_destroy (source);
  g_clear_pointer (&cam.injected, g_bytes_unref);
  g_clear_pointer (&cam.metadata, g_bytes_unref);
  g_clear_pointer (&cam.still, g_free);
  return 0;
}
