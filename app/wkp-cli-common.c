#include "wkp-cli.h"

#include "wkp-config.h"
#include "wkp-error.h"

#include <stdio.h>
#include <unistd.h>

int
wkp_cli_fail (const char *command, GError *error)
{
  if (error != NULL)
    {
      g_printerr ("wav2kp %s: %s\n", command, error->message);
      g_error_free (error);
    }
  else
    g_printerr ("wav2kp %s: failed\n", command);
  return WKP_EXIT_BAD_INPUT;
}

gboolean
wkp_cli_parse (GOptionContext *ctx, const char *command, int *argc, char ***argv)
{
  g_autoptr(GError) error = NULL;
  if (!g_option_context_parse (ctx, argc, argv, &error))
    {
      g_printerr ("wav2kp %s: %s\nTry “wav2kp %s --help”.\n", command, error->message, command);
      return FALSE;
    }
  return TRUE;
}

struct _WkpCliProgress {
  char    *label;
  gboolean tty;
  gint64   start;
  gint64   last;
  gboolean drawn;
};

WkpCliProgress *
wkp_cli_progress_new (const char *label)
{
  WkpCliProgress *p = g_new0 (WkpCliProgress, 1);
  p->label = g_strdup (label);
  p->tty = isatty (STDERR_FILENO) && g_getenv ("WKP_NO_PROGRESS") == NULL;
  p->start = g_get_monotonic_time ();
  return p;
}

void
wkp_cli_progress_update (gint64 done, gint64 total, const char *what, gpointer user_data)
{
  WkpCliProgress *p = user_data;
  gint64 now = g_get_monotonic_time ();
  double elapsed;
  g_autoptr(GString) line = NULL;

  if (p == NULL || !p->tty)
    return;
  if (now - p->last < 100000 && done != total)
    return;
  p->last = now;
  elapsed = (now - p->start) / 1e6;
  line = g_string_new (NULL);
  g_string_append_printf (line, "\r\033[K%s", p->label);
  if (total > 0)
    {
      int width = 24, filled = (int) (width * (double) done / (double) total);
      g_string_append (line, " [");
      for (int i = 0; i < width; i++)
        g_string_append_c (line, i < filled ? '#' : '.');
      g_string_append_printf (line, "] %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT, done, total);
      if (done > 0 && elapsed > 0.5)
        {
          double eta = elapsed * (double) (total - done) / (double) done;
          g_string_append_printf (line, "  %.1f/s  ETA %d:%02d", done / elapsed, (int) eta / 60, (int) eta % 60);
        }
    }
  else
    g_string_append_printf (line, " %" G_GINT64_FORMAT, done);
  if (what != NULL && *what != '\0')
    g_string_append_printf (line, "  %s", what);
  fputs (line->str, stderr);
  fflush (stderr);
  p->drawn = TRUE;
}

void
wkp_cli_progress_free (WkpCliProgress *p)
{
  if (p == NULL)
    return;
  if (p->drawn)
    {
      fputs ("\r\033[K", stderr);
      fflush (stderr);
    }
  g_free (p->label);
  g_free (p);
}

char *
wkp_cli_default_model (GError **error)
{
  const char *env = g_getenv ("WKP_MODEL");
  g_autofree char *built = g_build_filename (WKP_SOURCE_DIR, "data", "default.wkpm", NULL);
  g_autofree char *installed = g_build_filename (WKP_PKGDATADIR, "default.wkpm", NULL);

  if (env != NULL && *env != '\0')
    return g_strdup (env);
  if (g_file_test (installed, G_FILE_TEST_IS_REGULAR))
    return g_steal_pointer (&installed);
  if (g_file_test (built, G_FILE_TEST_IS_REGULAR))
    return g_steal_pointer (&built);
  g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_NOT_FOUND,
               "No default model installed (looked for %s and %s); pass --model FILE", installed, built);
  return NULL;
}
