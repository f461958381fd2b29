#include "wkp-test-util.h"

#include <math.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

#include "wkp-config.h"

const char *
wkp_test_shared_data (void)
{
  static char *dir = NULL;
  if (dir == NULL)
    {
      const char *env = g_getenv ("WKP_SHARED_DATA");
      if (env != NULL && *env != '\0')
        dir = g_strdup (env);
      else
        dir = g_build_filename (WKP_SOURCE_DIR, "..", "shared", "data", NULL);
    }
  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      g_test_skip_printf ("shared data folder %s is absent: real-media test skipped", dir);
      return NULL;
    }
  return dir;
}

char *
wkp_test_shared_file (const char *relative)
{
  const char *dir = wkp_test_shared_data ();
  char *path;
  if (dir == NULL)
    return NULL;
  path = g_build_filename (dir, relative, NULL);
  return path;
}

const char *
wkp_test_python (const char *module)
{
  const char *py = "/usr/bin/python3";
  if (!g_file_test (py, G_FILE_TEST_IS_EXECUTABLE))
    {
      g_test_skip ("Debian /usr/bin/python3 is missing: reference comparison skipped");
      return NULL;
    }
  if (module != NULL)
    {
      g_autofree char *code = g_strdup_printf ("import %s", module);
      const char *argv[] = { py, "-c", code, NULL };
      int status = 0;
      if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                         NULL, NULL, NULL, NULL, &status, NULL) ||
          !g_spawn_check_wait_status (status, NULL))
        {
          g_test_skip_printf ("python module %s is not installed for /usr/bin/python3", module);
          return NULL;
        }
    }
  return py;
}

char *
wkp_test_run_python (const char *script, const char * const *args)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr(GError) error = NULL;
  int status = 0;

  g_ptr_array_add (argv, g_strdup ("/usr/bin/python3"));
  g_ptr_array_add (argv, g_build_filename (WKP_SOURCE_DIR, "tests", script, NULL));
  for (int i = 0; args != NULL && args[i] != NULL; i++)
    g_ptr_array_add (argv, g_strdup (args[i]));
  g_ptr_array_add (argv, NULL);
  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err,
                               &status, &error));
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("python %s failed:\n%s", script, err);
  return g_steal_pointer (&out);
}

static char *tmp_root = NULL;

static void
rm_rf (const char *path)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR) && !g_file_test (path, G_FILE_TEST_IS_SYMLINK))
    {
      GDir *d = g_dir_open (path, 0, NULL);
      const char *name;
      while (d != NULL && (name = g_dir_read_name (d)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          rm_rf (child);
        }
      if (d != NULL)
        g_dir_close (d);
      g_rmdir (path);
    }
  else
    g_unlink (path);
}

static void
cleanup_tmp (void)
{
  if (tmp_root != NULL && g_getenv ("WKP_KEEP_TMP") == NULL)
    rm_rf (tmp_root);
}

char *
wkp_test_tmpdir (void)
{
  static int counter = 0;
  if (tmp_root == NULL)
    {
      tmp_root = g_dir_make_tmp ("wkp-test-XXXXXX", NULL);
      g_assert_nonnull (tmp_root);
      atexit (cleanup_tmp);
    }
  {
    char *dir = g_strdup_printf ("%s/%d", tmp_root, counter++);
    g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
    return dir;
  }
}

const char *
wkp_test_cli (void)
{
  const char *cli = g_getenv ("WKP_CLI");
  g_assert_nonnull (cli);
  return cli;
}

int
wkp_test_run_cli (const char * const *args, char **out, char **err)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  int status = 0;

  g_ptr_array_add (argv, (gpointer) wkp_test_cli ());
  for (int i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, out, err,
                               &status, &error));
  g_assert_no_error (error);
  if (WIFEXITED (status))
    return WEXITSTATUS (status);
  g_test_message ("CLI died from signal %d", WTERMSIG (status));
  return -WTERMSIG (status);
}

void
wkp_test_write_wav (const char *path, const float *samples, gsize n, int rate)
{
  wkp_test_write_wav_channels (path, samples, n, 1, rate);
}

void
wkp_test_write_wav_delayed (const char *path, const float *samples, gsize n, int rate, gsize pad)
{
  g_autofree float *late = g_new0 (float, n + pad);
  memcpy (late + pad, samples, n * sizeof (float));
  wkp_test_write_wav (path, late, n + pad, rate);
}

void
wkp_test_write_wav_channels (const char *path, const float *samples, gsize n_frames, int channels, int rate)
{
  FILE *f = fopen (path, "wb");
  gsize n = n_frames * (gsize) channels;
  guint32 data_bytes = (guint32) (n * 2), riff = 36 + data_bytes, fmt_len = 16;
  guint32 byte_rate = (guint32) rate * 2 * (guint32) channels;
  guint16 pcm = 1, ch = (guint16) channels, align = (guint16) (2 * channels), bits = 16;
  guint32 r = (guint32) rate;

  g_assert_nonnull (f);
  fwrite ("RIFF", 1, 4, f);
  fwrite (&riff, 4, 1, f);
  fwrite ("WAVEfmt ", 1, 8, f);
  fwrite (&fmt_len, 4, 1, f);
  fwrite (&pcm, 2, 1, f);
  fwrite (&ch, 2, 1, f);
  fwrite (&r, 4, 1, f);
  fwrite (&byte_rate, 4, 1, f);
  fwrite (&align, 2, 1, f);
  fwrite (&bits, 2, 1, f);
  fwrite ("data", 1, 4, f);
  fwrite (&data_bytes, 4, 1, f);
  for (gsize i = 0; i < n; i++)
    {
      float v = samples[i] * 32767.0f;
      gint16 s = (gint16) CLAMP (v, -32768.0f, 32767.0f);
      fwrite (&s, 2, 1, f);
    }
  fclose (f);
}

void
wkp_test_random_fill (float *data, gsize n, float lo, float hi)
{
  for (gsize i = 0; i < n; i++)
    data[i] = (float) g_test_rand_double_range (lo, hi);
}

static gint64
status_kib (const char *key)
{
  g_autofree char *text = NULL;
  gsize n = strlen (key);

  if (!g_file_get_contents ("/proc/self/status", &text, NULL, NULL))
    return -1;
  for (const char *line = text; line != NULL; line = strchr (line, '\n'))
    {
      if (*line == '\n')
        line++;
      if (strncmp (line, key, n) == 0 && line[n] == ':')
        return g_ascii_strtoll (line + n + 1, NULL, 10);   /* "VmRSS:    1234 kB" */
    }
  return -1;
}

gint64
wkp_test_peak_reset (void)
{
  gint64 rss;
  gboolean ok;
  FILE *fp = fopen ("/proc/self/clear_refs", "w");

  if (fp == NULL)
    return -1;
  /* "5": reset the peak resident set size to the current one (Linux 4.0) */
  ok = fputs ("5", fp) >= 0;
  if (fclose (fp) != 0 || !ok)   /* the write happens here */
    return -1;
  rss = status_kib ("VmRSS");
  return rss < 0 || status_kib ("VmHWM") < 0 ? -1 : rss * 1024;
}

gint64
wkp_test_peak_rss (void)
{
  gint64 hwm = status_kib ("VmHWM");
  return hwm < 0 ? -1 : hwm * 1024;
}

char *
wkp_test_ascii_minus (const char *text)
{
  GString *s = g_string_new (NULL);
  for (const char *p = text; *p != '\0'; p++)
    {
      if (g_str_has_prefix (p, "\xe2\x88\x92"))
        {
          g_string_append_c (s, '-');
          p += 2;
        }
      else
        g_string_append_c (s, *p);
    }
  return g_string_free (s, FALSE);
}

double
wkp_test_max_abs_diff (const float *a, const float *b, gsize n)
{
  double m = 0;
  for (gsize i = 0; i < n; i++)
    m = MAX (m, fabs ((double) a[i] - b[i]));
  return m;
}

void
wkp_test_fixed_seed (int *argc, char ***argv)
{
  /* (kept for the life of the process, as g_test_init keeps argv) */
  static GPtrArray *args;
  gboolean seeded = FALSE;
  g_return_if_fail (args == NULL);
  args = g_ptr_array_new ();
  for (int i = 0; i < *argc; i++)
    {
      seeded |= g_str_has_prefix ((*argv)[i], "--seed");
      g_ptr_array_add (args, (*argv)[i]);
    }
  if (!seeded)
    g_ptr_array_add (args, (gpointer) "--seed=R02S0000000100000002000000030000000a");
  g_ptr_array_add (args, NULL);
  *argc = (int) args->len - 1;
  *argv = (char **) args->pdata;
}
