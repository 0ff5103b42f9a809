/* cordon — validated configuration.
 *
 * cordon_config_load() reads the INI file into a CordonConfig. Every field is
 * checked at load time; after that the structure is immutable, and the other
 * modules trust it.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define CORDON_CONFIG_ERROR (cordon_config_error_quark ())
GQuark cordon_config_error_quark (void);

typedef enum {
  CORDON_CONFIG_ERROR_INVALID, /* one or more problems; the message lists each, one a line */
  CORDON_CONFIG_ERROR_IO,      /* the file itself could not be read */
} CordonConfigError;

typedef enum {
  CORDON_FIREWALL_MODE_GATEWAY,
  CORDON_FIREWALL_MODE_HOST,
  CORDON_FIREWALL_MODE_OFF,
} CordonFirewallMode;

typedef enum {
  CORDON_POLICY_OFF,
  CORDON_POLICY_OPTIONAL,
  CORDON_POLICY_REQUIRED,
} CordonPolicy;

/* No ingest worker ever runs below this uid (system accounts, root). */
#define CORDON_WORKER_UID_MIN 1000

/* One camera, from a [camera:NAME] group. Reference counted so that a running
 * pipeline can keep its camera when a reload replaces the configuration. */
typedef struct {
  char *name;            /* the NAME of [camera:NAME]; also the mount path /NAME */
  char *url;             /* rtsp://IP[:PORT]/path?query, never with credentials */
  char *host;            /* the camera's IP address, as text */
  GInetAddress *address; /* the same, parsed */
  guint16 port;          /* camera RTSP port, default 554 */
  char *username;        /* NULL when the camera needs no login */
  char *password;        /* secret read from password-file; never log it */
  char *mac;             /* NULL, or a pinned MAC "aa:bb:cc:dd:ee:ff" */
  guint width;           /* output size, default 1280x720 */
  guint height;
  guint framerate;       /* output frames per second, default 25 */
  guint bitrate;         /* output kbit/s, default 2000 */
  guint keyframe_interval; /* seconds between IDR frames, default 2 */
  char *profile;         /* H.264 profile: baseline, main (default) or high */
  char *preset;          /* x264 speed preset, default "veryfast" */
  gboolean audio;        /* pass audio (re-encoded) to recorders; default FALSE */
  gboolean allow_basic;  /* auth = basic: answer a Basic challenge (password in clear); default digest only */
  guint max_input_width; /* max-input-size: the largest picture the camera may send, default 4096x2160 */
  guint max_input_height;
  guint max_input_framerate; /* max-input-framerate: frames per second it may announce, default 60 */
  guint worker_uid;      /* uid (and gid) of this camera's ingest worker: [proxy] worker-uid-base + index */
  guint sub_width;       /* second output from the same decode, served at /NAME/sub; 0x0 when off */
  guint sub_height;
  guint sub_bitrate;     /* kbit/s of the sub stream, default 512 */
  guint encoder_threads; /* x264 threads, resolved from [proxy] encoder-threads: 0 = x264's own choice */
  /*< private >*/
  gint refcount;
} CordonCamera;

/* One recorder, from a [recorder:NAME] group. */
typedef struct {
  char *name;
  char *username;
  char *password;        /* secret read from password-file; never log it */
  GPtrArray *addresses;  /* GInetAddressMask*: where it may connect from */
  gboolean all_cameras;  /* cameras = * */
  GStrv cameras;         /* the cameras it may see, when !all_cameras */
  CordonPolicy tls;      /* required: refused on plain RTSP; default optional */
  CordonPolicy srtp;     /* SRTP to this recorder; default off */
  char *client_certificate; /* PEM the recorder must present over RTSPS (mutual TLS), or NULL */
} CordonRecorder;

typedef struct {
  char *path;            /* the file this was read from */

  /* [proxy] */
  char *listen_host;     /* default 0.0.0.0 */
  guint16 listen_port;   /* default 554 */
  char *tls_listen_host; /* RTSPS; only with tls_certificate */
  guint16 tls_listen_port; /* default 322 */
  char *tls_certificate; /* PEM file, NULL when RTSPS is off */
  char *tls_key;         /* its key's file */
  char *tls_pem;         /* certificate chain then key, as read once at load; secret */
  char *user;            /* drop to this user after setup; default "cordon" */
  char *status_host;     /* NULL when status = off */
  guint16 status_port;   /* default 127.0.0.1:9554 */
  char *status_username; /* HTTP basic credentials for /status and /metrics; */
  char *status_password; /* required when status is not on loopback; secret */
  gboolean udp;          /* offer RTP over UDP; default FALSE (interleaved only) */
  gboolean tunnel;       /* accept RTSP over HTTP; default FALSE */
  guint max_clients_per_address; /* default 16 */
  guint worker_uid_base; /* first ingest worker uid, default 61000, at least CORDON_WORKER_UID_MIN */
  guint encoder_threads; /* [proxy] encoder-threads as written: 0 = auto */

  /* [firewall] */
  CordonFirewallMode mode;   /* default gateway */
  char *camera_interface;    /* required unless mode = off */
  char *core_interface;      /* required in gateway mode */
  guint nflog_group;         /* default 1984 */
  gboolean serve_ntp;        /* let cameras reach this host's NTP (udp 123) */
  gboolean serve_dhcp;       /* let cameras reach this host's DHCP (udp 67) */

  /* [onvif] */
  char *onvif_host;          /* ONVIF device/media service; NULL when off (the default) */
  guint16 onvif_port;
  gboolean onvif_discovery;  /* WS-Discovery on core-interface; default FALSE */
  char *onvif_serial;        /* serial number to report; NULL: derived from the machine id */

  GPtrArray *cameras;    /* CordonCamera*, in file order */
  GPtrArray *recorders;  /* CordonRecorder*, in file order */
} CordonConfig;

/* Reads and validates FILE. On failure returns NULL and sets error; for
 * CORDON_CONFIG_ERROR_INVALID the message holds every problem found, one per
 * line, each starting "FILE: [group] key: ". */
CordonConfig *cordon_config_load (const char *path, GError **error);

typedef enum {
  CORDON_CONFIG_LOAD_DEFAULT = 0,
  /* Do not open secret files (password-file, tls-key): passwords stay NULL.
   * For the firewall, which needs none, so that a bad secret cannot stop the
   * cameras being contained. */
  CORDON_CONFIG_LOAD_NO_SECRETS = 1 << 0,
} CordonConfigLoadFlags;

/* cordon_config_load() with FLAGS. */
CordonConfig *cordon_config_load_flags (const char *path, CordonConfigLoadFlags flags, GError **error);
void cordon_config_free (CordonConfig *config);

/* The camera called NAME, or NULL. */
const CordonCamera *cordon_config_find_camera (const CordonConfig *config, const char *name);
const CordonRecorder *cordon_config_find_recorder (const CordonConfig *config, const char *name);

CordonCamera *cordon_camera_ref (CordonCamera *camera);
void cordon_camera_unref (CordonCamera *camera);

/* TRUE when a and b would run the same pipeline (reload keeps it running). */
gboolean cordon_camera_equal (const CordonCamera *a, const CordonCamera *b);

/* TRUE when the recorder may see camera NAME. */
gboolean cordon_recorder_allows_camera (const CordonRecorder *recorder, const char *camera);

/* TRUE when ADDRESS lies in one of the recorder's allowed prefixes. */
gboolean cordon_recorder_allows_address (const CordonRecorder *recorder, GInetAddress *address);

/* Splits "HOST:PORT" or "[V6]:PORT" into an IP literal and port. */
gboolean cordon_config_parse_hostport (const char *text, char **host, guint16 *port, GError **error);

/* Reads only [proxy] status from PATH (no secrets, so no root needed). */
gboolean cordon_config_peek_status (const char *path, char **host, guint16 *port, GError **error);

/* Recorder passwords shorter than this are warned about by `cordon check`. */
#define CORDON_CONFIG_MIN_PASSWORD 16

/* What is valid but weak in CONFIG, one line each ("FILE: [group] key: ..."),
 * for `cordon check` (transfer full; possibly empty). */
GPtrArray *cordon_config_warnings (const CordonConfig *config);

/* What the firewall's lock-down can still use from a file that does not load:
 * [firewall] mode (FALSE in *off unless it says off), camera-interface (NULL
 * when missing or not a plain interface name) and nflog-group (default when
 * unreadable). Reads no secret. FALSE only when the file cannot be read or
 * parsed as INI at all. */
gboolean cordon_config_peek_firewall (const char *path, gboolean *off, char **camera_interface, guint *nflog_group,
                                      GError **error);

const char *cordon_firewall_mode_to_string (CordonFirewallMode mode);
const char *cordon_policy_to_string (CordonPolicy policy);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CordonConfig, cordon_config_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CordonCamera, cordon_camera_unref)

G_END_DECLS
