/* cordon — the request guard. */
#define G_LOG_DOMAIN "cordon-proxy"

#include "proxy/guard.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/tcp.h>

/* gst-rtsp-server reads a request on the main loop until it is complete and
 * keeps every header line: a client sending an endless header block holds the
 * loop (no other recorder is answered, /status and the watchdog stall) and
 * grows memory for as long as it sends. No GStreamer setting bounds this, so a
 * thread of ours reads how many bytes each connection has sent since its last
 * complete request (TCP_INFO) and resets connections that exceed
 * REQUEST_MAX_BYTES: in total when they hold no session, and within one guard
 * interval when they do (their RTCP counts too, a trickle). The reset is a
 * connect (AF_UNSPEC) on our own duplicate of the socket: the main loop's next
 * read fails and the client is closed where it is served, and no descriptor
 * is closed under anyone's feet. */
#define REQUEST_MAX_BYTES (64 * 1024)
#define GUARD_INTERVAL_US (G_USEC_PER_SEC / 2)

typedef struct {
  int fd;            /* our duplicate of the client's socket */
  char *ip;
  guint64 mark;      /* bytes received up to its last complete request */
  guint64 tick;      /* bytes received at the previous guard pass */
  gboolean session;  /* held a session at its last request or sweep */
  gboolean reset;
} Guarded;

static void
guarded_free (Guarded *g)
{
  close (g->fd);
  g_free (g->ip);
  g_free (g);
}

static gboolean
bytes_received (int fd, guint64 *bytes)
{
  struct tcp_info ti;
  socklen_t len = sizeof ti;
  if (getsockopt (fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0
      || len < G_STRUCT_OFFSET (struct tcp_info, tcpi_bytes_received) + sizeof ti.tcpi_bytes_received)
    return FALSE;
  *bytes = ti.tcpi_bytes_received;
  return TRUE;
}

struct _CordonGuard {
  GMutex lock;
  GCond cond;
  GHashTable *guarded;    /* GstRTSPClient* → Guarded*: what each client sent */
  GThread *thread;
  gboolean stop;
};

static gpointer
guard_thread (gpointer data)
{
  CordonGuard *guard = data;
  GHashTableIter it;
  gpointer v;

  g_mutex_lock (&guard->lock);
  while (!guard->stop) {
    g_cond_wait_until (&guard->cond, &guard->lock, g_get_monotonic_time () + GUARD_INTERVAL_US);
    g_hash_table_iter_init (&it, guard->guarded);
    while (g_hash_table_iter_next (&it, NULL, &v)) {
      Guarded *g = v;
      guint64 now;
      if (g->reset || !bytes_received (g->fd, &now))
        continue;
      guint64 since_request = now - g->mark, since_tick = now - g->tick;
      g->tick = now;
      if (since_request <= REQUEST_MAX_BYTES || (g->session && since_tick <= REQUEST_MAX_BYTES))
        continue;
      struct sockaddr unspec = { .sa_family = AF_UNSPEC };
      if (connect (g->fd, &unspec, sizeof unspec) < 0)
        g_warning ("cannot reset the connection from %s: %s", g->ip, g_strerror (errno));
      g->reset = TRUE;
      g_message ("reset connection from %s: %" G_GUINT64_FORMAT " bytes without a complete request (limit %u)",
                 g->ip, since_request, REQUEST_MAX_BYTES);
    }
  }
  g_mutex_unlock (&guard->lock);
  return NULL;
}

void
cordon_guard_note (CordonGuard *guard, GstRTSPClient *client, gboolean request, guint sessions)
{
  g_mutex_lock (&guard->lock);
  Guarded *g = g_hash_table_lookup (guard->guarded, client);
  if (g && request)
    bytes_received (g->fd, &g->mark);
  if (g)
    g->session = sessions > 0;
  g_mutex_unlock (&guard->lock);
}

void
cordon_guard_add (CordonGuard *guard, GstRTSPClient *client, GstRTSPConnection *conn)
{
  GSocket *sock = conn ? gst_rtsp_connection_get_read_socket (conn) : NULL;
  int fd = sock ? fcntl (g_socket_get_fd (sock), F_DUPFD_CLOEXEC, 3) : -1;
  if (fd < 0) {
    g_warning ("connection from %s: cannot watch its request size: %s", conn ? gst_rtsp_connection_get_ip (conn) : "?",
               g_strerror (errno));
    return;
  }
  Guarded *g = g_new0 (Guarded, 1);
  g->fd = fd;
  g->ip = g_strdup (gst_rtsp_connection_get_ip (conn));
  bytes_received (fd, &g->mark);
  g->tick = g->mark;
  g_mutex_lock (&guard->lock);
  g_hash_table_replace (guard->guarded, client, g);
  g_mutex_unlock (&guard->lock);
}

void
cordon_guard_remove (CordonGuard *guard, GstRTSPClient *client)
{
  g_mutex_lock (&guard->lock);
  g_hash_table_remove (guard->guarded, client);
  g_mutex_unlock (&guard->lock);
}

CordonGuard *
cordon_guard_new (void)
{
  CordonGuard *guard = g_new0 (CordonGuard, 1);
  g_mutex_init (&guard->lock);
  g_cond_init (&guard->cond);
  guard->guarded = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) guarded_free);
  guard->thread = g_thread_new ("cordon-guard", guard_thread, guard);
  return guard;
}

void
cordon_guard_free (CordonGuard *guard)
{
  if (!guard)
    return;
  g_mutex_lock (&guard->lock);
  guard->stop = TRUE;
  g_cond_signal (&guard->cond);
  g_mutex_unlock (&guard->lock);
  g_thread_join (guard->thread);
  g_hash_table_unref (guard->guarded);
  g_mutex_clear (&guard->lock);
  g_cond_clear (&guard->cond);
  g_free (guard);
}
