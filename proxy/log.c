/* cordon — log lines for the journal or a terminal. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "proxy/daemon.h"

static gboolean journal;
static gboolean verbose_mode;

static int
priority (GLogLevelFlags level)
{
  if (level & G_LOG_LEVEL_ERROR)
    return 3;
  if (level & G_LOG_LEVEL_CRITICAL)
    return 3;
  if (level & G_LOG_LEVEL_WARNING)
    return 4;
  if (level & G_LOG_LEVEL_MESSAGE)
    return 5;
  if (level & G_LOG_LEVEL_INFO)
    return 6;
  return 7;
}

/* One line per event. Under systemd (JOURNAL_STREAM set) the line starts with
 * the sd-daemon priority prefix "<N>", which journald turns into PRIORITY=;
 * elsewhere a time stamp and level word make it readable. */
static GLogWriterOutput
writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
  const char *domain = NULL, *message = NULL;
  int prio = priority (level);

  if (prio == 7 && !verbose_mode)
    return G_LOG_WRITER_HANDLED;
  for (gsize i = 0; i < n_fields; i++) {
    if (strcmp (fields[i].key, "GLIB_DOMAIN") == 0)
      domain = fields[i].value;
    else if (strcmp (fields[i].key, "MESSAGE") == 0)
      message = fields[i].value;
  }
  if (!message)
    return G_LOG_WRITER_UNHANDLED;
  if (prio == 6 && !verbose_mode && domain && !g_str_has_prefix (domain, "cordon"))
    return G_LOG_WRITER_HANDLED;

  g_autoptr (GString) line = g_string_new (NULL);
  if (journal) {
    g_string_append_printf (line, "<%d>", prio);
  } else {
    static const char *const words[] = { "", "", "", "error", "warning", "notice", "info", "debug" };
    g_autoptr (GDateTime) now = g_date_time_new_now_local ();
    g_autofree char *ts = g_date_time_format (now, "%H:%M:%S");
    g_string_append_printf (line, "%s %s ", ts, words[prio]);
  }
  if (domain)
    g_string_append_printf (line, "%s: ", domain);
  /* Keep one event on one line, and no terminal control sequence in it: a
   * last net under cordon_sanitize(), which every line carrying a camera's
   * or client's text uses, for text from libraries that cordon does not
   * see (GLib, GStreamer). */
  for (const guchar *p = (const guchar *) message; *p; p++)
    g_string_append_c (line, *p == '\n' || *p == '\t' ? ' ' : *p < 0x20 || *p == 0x7f ? '?' : (char) *p);
  g_string_append_c (line, '\n');
  /* A full disk or a reader that went away loses this line, never the
   * daemon: the error is dropped so the next line is tried afresh. */
  if (fputs (line->str, stderr) == EOF || fflush (stderr) == EOF)
    clearerr (stderr);
  return G_LOG_WRITER_HANDLED;
}

void
cordon_log_init (gboolean verbose)
{
  journal = g_getenv ("JOURNAL_STREAM") != NULL;
  verbose_mode = verbose;
  /* stderr may be a pipe (journald, a terminal pager) whose reader exits:
   * a write must then fail with EPIPE, not kill the daemon. GLib's sockets
   * ignore SIGPIPE too, but only once the first one exists. */
  signal (SIGPIPE, SIG_IGN);
  g_log_set_writer_func (writer, NULL, NULL);
}
