#include "wkp-io.h"
#include "wkp-error.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

typedef struct {
  char *path;
  char *tmp;
  FILE *fp;   /* wkp_output_add_file() until finished */
} OutFile;

struct _WkpOutput {
  GArray *files;
  gboolean committed;
};

static void
out_file_clear (gpointer p)
{
  OutFile *f = p;
  g_free (f->path);
  g_free (f->tmp);
}

/* --- temporaries removed when the process is killed ----------------------------
 *
 * Every temporary an output writes is listed here while it exists, so that
 * SIGINT/SIGTERM/SIGHUP (wkp_io_remove_temps_on_signal) can unlink them before
 * the process dies: a killed run leaves neither a half-written output nor a
 * stray ".NAME.XXXXXX.part" beside it. The handler only reads the table: a
 * slot's path is complete before the slot is marked used (release/acquire). */

#define MAX_TEMPS 64

static char temp_paths[MAX_TEMPS][PATH_MAX];
static int  temp_used[MAX_TEMPS];
static GMutex temp_lock;

static void
temp_register (const char *tmp)
{
  if (strlen (tmp) >= PATH_MAX)
    return;
  g_mutex_lock (&temp_lock);
  for (int i = 0; i < MAX_TEMPS; i++)
    if (!__atomic_load_n (&temp_used[i], __ATOMIC_ACQUIRE))
      {
        strcpy (temp_paths[i], tmp);
        __atomic_store_n (&temp_used[i], 1, __ATOMIC_RELEASE);
        break;
      }
  g_mutex_unlock (&temp_lock);
}

static void
temp_unregister (const char *tmp)
{
  g_mutex_lock (&temp_lock);
  for (int i = 0; i < MAX_TEMPS; i++)
    if (__atomic_load_n (&temp_used[i], __ATOMIC_ACQUIRE) && strcmp (temp_paths[i], tmp) == 0)
      {
        __atomic_store_n (&temp_used[i], 0, __ATOMIC_RELEASE);
        break;
      }
  g_mutex_unlock (&temp_lock);
}

/* Temporary folders (a clip being prepared, the frames of `wav2kp frames`)
 * are listed the same way and removed with their files (flat: no
 * sub-folders) after the files above. */
#define MAX_TEMP_DIRS 16

static char temp_dir_paths[MAX_TEMP_DIRS][PATH_MAX];
static int  temp_dir_used[MAX_TEMP_DIRS];

void
wkp_io_register_temp_dir (const char *dir)
{
  if (strlen (dir) >= PATH_MAX)
    return;
  g_mutex_lock (&temp_lock);
  for (int i = 0; i < MAX_TEMP_DIRS; i++)
    if (!__atomic_load_n (&temp_dir_used[i], __ATOMIC_ACQUIRE))
      {
        strcpy (temp_dir_paths[i], dir);
        __atomic_store_n (&temp_dir_used[i], 1, __ATOMIC_RELEASE);
        break;
      }
  g_mutex_unlock (&temp_lock);
}

void
wkp_io_unregister_temp_dir (const char *dir)
{
  g_mutex_lock (&temp_lock);
  for (int i = 0; i < MAX_TEMP_DIRS; i++)
    if (__atomic_load_n (&temp_dir_used[i], __ATOMIC_ACQUIRE) && strcmp (temp_dir_paths[i], dir) == 0)
      {
        __atomic_store_n (&temp_dir_used[i], 0, __ATOMIC_RELEASE);
        break;
      }
  g_mutex_unlock (&temp_lock);
}

struct dirent64_raw {
  guint64        d_ino;
  gint64         d_off;
  unsigned short d_reclen;
  unsigned char  d_type;
  char           d_name[];
};

/* Unlinks the entries of the open folder @fd; how many it removed. */
static int
unlink_entries (int fd)
{
  char buf[4096] __attribute__ ((aligned (8)));
  long n;
  int removed = 0;
  lseek (fd, 0, SEEK_SET);
  while ((n = syscall (SYS_getdents64, fd, buf, sizeof buf)) > 0)
    for (long off = 0; off < n;)
      {
        struct dirent64_raw *d = (struct dirent64_raw *) (buf + off);
        if (!(d->d_name[0] == '.' && (d->d_name[1] == '\0' || (d->d_name[1] == '.' && d->d_name[2] == '\0')))
            && unlinkat (fd, d->d_name, 0) == 0)
          removed++;
        off += d->d_reclen;
      }
  return removed;
}

/* Removes @dir's files and @dir. Only system calls (open, getdents64,
 * unlinkat, rmdir): it runs inside a signal handler, where readdir's
 * allocations are not allowed. Another thread may still be writing a file
 * into it meanwhile: it is listed again until rmdir finds it empty. */
gboolean
wkp_io_remove_flat_dir (const char *dir)
{
  for (int tries = 0; tries < 64; tries++)
    {
      int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (fd >= 0)
        {
          /* a few passes: entries removed while listing may hide others */
          for (int pass = 0; pass < 4 && unlink_entries (fd) > 0; pass++)
            ;
          close (fd);
        }
      if (rmdir (dir) == 0)
        return TRUE;
      if (errno != ENOTEMPTY && errno != EEXIST)
        return FALSE;
    }
  return FALSE;
}

char *
wkp_io_make_temp_dir (const char *templ, int mode, GError **error)
{
  static const char chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  g_autofree char *path = g_strdup (templ);
  char *x = g_strrstr (path, "XXXXXX");
  g_return_val_if_fail (x != NULL, NULL);
  for (int attempt = 0; attempt < 100; attempt++)
    {
      int e;
      for (int i = 0; i < 6; i++)
        x[i] = chars[g_random_int_range (0, (gint32) sizeof chars - 1)];
      wkp_io_register_temp_dir (path);
      if (g_mkdir (path, mode) == 0)
        return g_steal_pointer (&path);
      e = errno;
      wkp_io_unregister_temp_dir (path);
      if (e != EEXIST)
        {
          g_set_error_literal (error, WKP_IO_ERROR, WKP_ERROR_IO, g_strerror (e));
          return NULL;
        }
    }
  g_set_error_literal (error, WKP_IO_ERROR, WKP_ERROR_IO, g_strerror (EEXIST));
  return NULL;
}

static char new_folder_path[PATH_MAX];
static char new_folder_content[PATH_MAX];
static int  new_folder_used;

void
wkp_io_register_new_folder (const char *dir, const char *content)
{
  g_mutex_lock (&temp_lock);
  __atomic_store_n (&new_folder_used, 0, __ATOMIC_RELEASE);
  if (dir != NULL && content != NULL && strlen (dir) < PATH_MAX && strlen (content) < PATH_MAX)
    {
      strcpy (new_folder_path, dir);
      strcpy (new_folder_content, content);
      __atomic_store_n (&new_folder_used, 1, __ATOMIC_RELEASE);
    }
  g_mutex_unlock (&temp_lock);
}

static void
remove_temps_and_die (int sig)
{
  for (int i = 0; i < MAX_TEMPS; i++)
    if (__atomic_load_n (&temp_used[i], __ATOMIC_ACQUIRE))
      unlink (temp_paths[i]);
  for (int i = 0; i < MAX_TEMP_DIRS; i++)
    if (__atomic_load_n (&temp_dir_used[i], __ATOMIC_ACQUIRE))
      wkp_io_remove_flat_dir (temp_dir_paths[i]);
  /* (rmdir fails on a content folder with finished work in it: kept) */
  if (__atomic_load_n (&new_folder_used, __ATOMIC_ACQUIRE) && rmdir (new_folder_content) == 0)
    wkp_io_remove_flat_dir (new_folder_path);
  signal (sig, SIG_DFL);
  raise (sig);
}

/* (sigaction only: also called from a signal handler) */
static void
catch_signals (void (*handler) (int), int flags)
{
  const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
  for (guint i = 0; i < G_N_ELEMENTS (sigs); i++)
    {
      struct sigaction sa;
      memset (&sa, 0, sizeof sa);
      sa.sa_handler = handler;
      sigemptyset (&sa.sa_mask);
      sa.sa_flags = flags;
      sigaction (sigs[i], &sa, NULL);
    }
}

void
wkp_io_remove_temps_on_signal (void)
{
  catch_signals (remove_temps_and_die, SA_RESETHAND);
}

void
wkp_io_on_stop_signals (void (*handler) (int))
{
  catch_signals (handler, 0);
}

WkpOutput *
wkp_output_new (void)
{
  WkpOutput *out = g_new0 (WkpOutput, 1);
  out->files = g_array_new (FALSE, TRUE, sizeof (OutFile));
  g_array_set_clear_func (out->files, out_file_clear);
  return out;
}

void
wkp_output_free (WkpOutput *out)
{
  if (out == NULL)
    return;
  for (guint i = 0; i < out->files->len; i++)
    {
      OutFile *f = &g_array_index (out->files, OutFile, i);
      if (f->fp != NULL)
        {
          fclose (f->fp);
          f->fp = NULL;
        }
      if (f->tmp != NULL)
        {
          g_unlink (f->tmp);
          temp_unregister (f->tmp);
        }
    }
  g_array_unref (out->files);
  g_free (out);
}

/* --- inputs of the job ------------------------------------------------------ */

static GMutex      inputs_lock;
static GHashTable *inputs;   /* "dev:ino" of every input read, while tracking */

static char *
file_id (dev_t dev, ino_t ino)
{
  return g_strdup_printf ("%ju:%ju", (uintmax_t) dev, (uintmax_t) ino);
}

void
wkp_io_track_inputs (gboolean enable)
{
  g_mutex_lock (&inputs_lock);
  if (enable && inputs == NULL)
    inputs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  else if (!enable)
    g_clear_pointer (&inputs, g_hash_table_unref);
  g_mutex_unlock (&inputs_lock);
}

void
wkp_io_note_input (const char *path)
{
  struct stat st;
  char *id;

  if (path == NULL || stat (path, &st) != 0 || !S_ISREG (st.st_mode))
    return;
  /* the id is made before taking the lock: built inside it, GCC 12 at -O3 reports
   * a false -Wdangling-pointer to @st (and -Werror stops a release build) */
  id = file_id (st.st_dev, st.st_ino);
  g_mutex_lock (&inputs_lock);
  if (inputs != NULL)
    g_hash_table_add (inputs, g_steal_pointer (&id));
  g_mutex_unlock (&inputs_lock);
  g_free (id);
}

gboolean
wkp_path_same_file (const char *a, const char *b)
{
  struct stat sa, sb;
  return a != NULL && b != NULL && stat (a, &sa) == 0 && stat (b, &sb) == 0 && sa.st_dev == sb.st_dev
         && sa.st_ino == sb.st_ino;
}

/* FALSE (with @error) when writing @path would replace an input of the job
 * or something that is not a regular file. */
static gboolean
check_replaceable (const char *path, GError **error)
{
  struct stat st;
  gboolean is_input = FALSE;

  if (stat (path, &st) != 0)
    return TRUE;   /* nothing there yet */
  if (S_ISDIR (st.st_mode))
    {
      g_set_error (error, WKP_IO_ERROR, WKP_ERROR_INVALID, "Cannot write %s: it is a folder", path);
      return FALSE;
    }
  if (!S_ISREG (st.st_mode))
    {
      g_set_error (error, WKP_IO_ERROR, WKP_ERROR_INVALID,
                   "Cannot write %s: it is not a regular file (a device, pipe or socket)", path);
      return FALSE;
    }
  g_mutex_lock (&inputs_lock);
  if (inputs != NULL)
    {
      g_autofree char *id = file_id (st.st_dev, st.st_ino);
      is_input = g_hash_table_contains (inputs, id);
    }
  g_mutex_unlock (&inputs_lock);
  if (is_input)
    {
      g_set_error (error, WKP_IO_ERROR, WKP_ERROR_INVALID,
                   "Cannot write %s: it is one of the inputs of this run; choose another output name", path);
      return FALSE;
    }
  return TRUE;
}

/* --- outputs ------------------------------------------------------------------- */

static int
make_temp (const char *path, char **tmp_out, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *templ = g_strdup_printf ("%s/.%s.XXXXXX.part", dir, base);
  int fd;

  if (!check_replaceable (path, error))
    return -1;
  fd = g_mkstemp_full (templ, O_WRONLY | O_CREAT | O_EXCL, 0644);
  if (fd < 0)
    {
      int e = errno;
      g_set_error (error, WKP_IO_ERROR, WKP_ERROR_IO, "Cannot write %s: %s", path, g_strerror (e));
      return -1;
    }
  temp_register (templ);
  *tmp_out = g_steal_pointer (&templ);
  return fd;
}

const char *
wkp_output_add_stream (WkpOutput *out, const char *path, GError **error)
{
  OutFile f = { 0 };
  int fd = make_temp (path, &f.tmp, error);
  if (fd < 0)
    return NULL;
  close (fd);
  f.path = g_strdup (path);
  g_array_append_val (out->files, f);
  return g_array_index (out->files, OutFile, out->files->len - 1).tmp;
}

FILE *
wkp_output_add_file (WkpOutput *out, const char *path, GError **error)
{
  OutFile f = { 0 };
  int fd = make_temp (path, &f.tmp, error);

  if (fd < 0)
    return NULL;
  f.path = g_strdup (path);
  f.fp = fdopen (fd, "w");
  if (f.fp == NULL)
    {
      int e = errno;
      close (fd);
      /* added all the same so that the temporary is removed */
      g_array_append_val (out->files, f);
      g_set_error (error, WKP_IO_ERROR, WKP_ERROR_IO, "Cannot write %s: %s", path, g_strerror (e));
      return NULL;
    }
  g_array_append_val (out->files, f);
  return g_array_index (out->files, OutFile, out->files->len - 1).fp;
}

gboolean
wkp_output_finish_file (WkpOutput *out, FILE *fp, GError **error)
{
  OutFile *f = NULL;
  int e = 0;

  for (guint i = 0; i < out->files->len && f == NULL; i++)
    if (fp != NULL && g_array_index (out->files, OutFile, i).fp == fp)
      f = &g_array_index (out->files, OutFile, i);
  g_return_val_if_fail (f != NULL, FALSE);
  errno = 0;
  if (fflush (fp) != 0 || ferror (fp))
    e = errno != 0 ? errno : EIO;
  else if (fsync (fileno (fp)) != 0 && errno != EINVAL)
    e = errno;
  f->fp = NULL;
  if (fclose (fp) != 0 && e == 0)
    e = errno != 0 ? errno : EIO;
  if (e != 0)
    {
      g_set_error (error, WKP_IO_ERROR, WKP_ERROR_IO, "Cannot write %s: %s", f->path, g_strerror (e));
      return FALSE;
    }
  return TRUE;
}

gboolean
wkp_output_add_bytes (WkpOutput *out, const char *path, GBytes *bytes, GError **error)
{
  OutFile f = { 0 };
  gsize len, done = 0;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  int fd = make_temp (path, &f.tmp, error);

  if (fd < 0)
    return FALSE;
  f.path = g_strdup (path);
  /* add first so that a failure below still removes the temporary */
  g_array_append_val (out->files, f);

  while (done < len)
    {
      ssize_t w = write (fd, data + done, len - done);
      if (w < 0)
        {
          int e = errno;
          if (e == EINTR)
            continue;
          close (fd);
          g_set_error (error, WKP_IO_ERROR, WKP_ERROR_IO, "Cannot write %s: %s", path, g_strerror (e));
          return FALSE;
        }
      done += (gsize) w;
    }
  if (fsync (fd) != 0 && errno != EINVAL)
    {
      int e = errno;
      close (fd);
      g_set_error (error, WKP_IO_ERROR, WKP_ERROR_IO, "Cannot write %s: %s", path, g_strerror (e));
      return FALSE;
    }
  if (close (fd) != 0)
    {
      int e = errno;
      g_set_error (error, WKP_IO_ERROR, WKP_ERROR_IO, "Cannot write %s: %s", path, g_strerror (e));
      return FALSE;
    }
  return TRUE;
}

gboolean
wkp_output_add_json (WkpOutput *out, const char *path, JsonNode *node, GError **error)
{
  g_autoptr(GBytes) bytes = wkp_json_to_bytes (node);
  return wkp_output_add_bytes (out, path, bytes, error);
}

gboolean
wkp_output_commit (WkpOutput *out, GError **error)
{
  /* all or nothing: check every target before renaming any */
  for (guint i = 0; i < out->files->len; i++)
    if (g_array_index (out->files, OutFile, i).fp != NULL)
      {
        g_set_error (error, WKP_IO_ERROR, WKP_ERROR_IO, "Cannot write %s: not finished",
                     g_array_index (out->files, OutFile, i).path);
        return FALSE;
      }
  for (guint i = 0; i < out->files->len; i++)
    if (!check_replaceable (g_array_index (out->files, OutFile, i).path, error))
      return FALSE;
  for (guint i = 0; i < out->files->len; i++)
    {
      OutFile *f = &g_array_index (out->files, OutFile, i);
      if (g_rename (f->tmp, f->path) != 0)
        {
          int e = errno;
          g_set_error (error, WKP_IO_ERROR, WKP_ERROR_IO, "Cannot write %s: %s", f->path, g_strerror (e));
          return FALSE;
        }
      temp_unregister (f->tmp);
      g_clear_pointer (&f->tmp, g_free);
    }
  out->committed = TRUE;
  return TRUE;
}

gboolean
wkp_write_file_atomic (const char *path, GBytes *bytes, GError **error)
{
  g_autoptr(WkpOutput) out = wkp_output_new ();
  return wkp_output_add_bytes (out, path, bytes, error) && wkp_output_commit (out, error);
}

/* Whether @path is a side file an earlier run wrote: a JSON sidecar (its
 * "kind" wav2kp.features, .prediction, …, or a landmark track's
 * "format") or a training log (its header, WKP_TRAIN_LOG_HEADER). */
static gboolean
is_own_side_file (const char *path)
{
  g_autofree char *head = NULL;
  gsize len = 0;
  if (g_str_has_suffix (path, ".csv"))
    {
      FILE *f = g_fopen (path, "rb");
      char line[64] = "";
      gboolean ours;
      if (f == NULL)
        return FALSE;
      ours = fgets (line, sizeof line, f) != NULL && g_str_has_prefix (line, "epoch,step,lr,train_loss,");
      fclose (f);
      return ours;
    }
  if (g_str_has_suffix (path, ".json") && g_file_get_contents (path, &head, &len, NULL) && len < 16 * 1024 * 1024)
    {
      g_autoptr(JsonParser) p = json_parser_new ();
      JsonObject *o;
      const char *kind;
      if (!json_parser_load_from_data (p, head, (gssize) len, NULL) || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p)))
        return FALSE;
      o = json_node_get_object (json_parser_get_root (p));
      kind = wkp_json_get_string (o, "kind");
      return (kind != NULL && g_str_has_prefix (kind, "wav2kp.")) ||
             g_strcmp0 (wkp_json_get_string (o, "format"), "wav2kp-landmarks") == 0;
    }
  return FALSE;
}

gboolean
wkp_check_side_output (const char *side, const char *main_output, GError **error)
{
  GStatBuf st;
  if (!wkp_check_output_path (side, error))
    return FALSE;
  if (g_lstat (side, &st) == 0 && !g_file_test (main_output, G_FILE_TEST_EXISTS) && !is_own_side_file (side))
    {
      g_set_error (error, WKP_IO_ERROR, WKP_ERROR_INVALID,
                   "Cannot write %s: it would go beside %s, but a file of that name exists and %s does not, so it "
                   "is not from an earlier run of this output; move it or choose another output name",
                   side, main_output, main_output);
      return FALSE;
    }
  return TRUE;
}

gboolean
wkp_check_output_path (const char *path, GError **error)
{
  g_autofree char *dir = NULL;

  if (path == NULL || *path == '\0')
    {
      g_set_error_literal (error, WKP_IO_ERROR, WKP_ERROR_INVALID, "No output file given");
      return FALSE;
    }
  if (!check_replaceable (path, error))
    return FALSE;
  dir = g_path_get_dirname (path);
  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      if (g_file_test (dir, G_FILE_TEST_EXISTS))
        g_set_error (error, WKP_IO_ERROR, WKP_ERROR_INVALID, "Cannot write %s: %s is a file, not a folder", path, dir);
      else
        g_set_error (error, WKP_IO_ERROR, WKP_ERROR_NOT_FOUND, "Cannot write %s: folder %s does not exist", path,
                     dir);
      return FALSE;
    }
  /* access (W_OK) says yes to root everywhere, including read-only file
   * systems such as /proc: create (and remove) a probe file instead. */
  {
    g_autofree char *probe = g_build_filename (dir, ".wkp-probe-XXXXXX", NULL);
    int fd = g_mkstemp (probe);
    if (fd < 0)
      {
        int e = errno;
        g_set_error (error, WKP_IO_ERROR, WKP_ERROR_IO, "Cannot write %s: %s", path, g_strerror (e));
        return FALSE;
      }
    close (fd);
    g_unlink (probe);
  }
  if (g_file_test (path, G_FILE_TEST_EXISTS) && access (path, W_OK) != 0)
    {
      int e = errno;
      g_set_error (error, WKP_IO_ERROR, WKP_ERROR_IO, "Cannot write %s: %s", path, g_strerror (e));
      return FALSE;
    }
  return TRUE;
}

gboolean
wkp_path_has_suffix (const char *path, const char *suffix)
{
  gsize n = strlen (path), m = strlen (suffix);
  return n >= m && g_ascii_strcasecmp (path + n - m, suffix) == 0;
}

char *
wkp_path_replace_ext (const char *path, const char *ext)
{
  const char *slash = strrchr (path, '/');
  const char *dot = strrchr (path, '.');
  if (dot != NULL && (slash == NULL || dot > slash) && dot != path && (slash == NULL || dot > slash + 1))
    return g_strdup_printf ("%.*s%s", (int) (dot - path), path, ext);
  return g_strconcat (path, ext, NULL);
}

/* json-glib 1.6 appends ".0" to doubles printed without a '.', which turns
 * 1e-10 into the invalid JSON number 1e-10.0. Outside string literals, drop a
 * ".0" that follows an exponent. */
static void
repair_exponents (char *text)
{
  char *r = text, *w = text;
  gboolean in_string = FALSE;

  while (*r != '\0')
    {
      if (in_string)
        {
          if (*r == '\\' && r[1] != '\0')
            *w++ = *r++;
          else if (*r == '"')
            in_string = FALSE;
          *w++ = *r++;
          continue;
        }
      if (*r == '"')
        in_string = TRUE;
      if ((*r == 'e' || *r == 'E') && w > text && g_ascii_isdigit (w[-1]))
        {
          *w++ = *r++;
          if (*r == '-' || *r == '+')
            *w++ = *r++;
          while (g_ascii_isdigit (*r))
            *w++ = *r++;
          if (r[0] == '.' && r[1] == '0' && !g_ascii_isdigit (r[2]))
            r += 2;
          continue;
        }
      *w++ = *r++;
    }
  *w = '\0';
}

/* JSON has no infinity or NaN: json-glib would write "inf.0", and the file
 * could not be read back (a `prepare --min-offset-gain inf` used to replace a
 * good dataset.json with such a file). Non-finite numbers become null, how
 * our readers take a missing value. */
static void
null_non_finite (JsonNode *node)
{
  if (node == NULL)
    return;
  if (JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonObjectIter it;
      JsonNode *member;
      json_object_iter_init (&it, json_node_get_object (node));
      while (json_object_iter_next (&it, NULL, &member))
        null_non_finite (member);
    }
  else if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *a = json_node_get_array (node);
      for (guint i = 0; i < json_array_get_length (a); i++)
        null_non_finite (json_array_get_element (a, i));
    }
  else if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_DOUBLE
           && !isfinite (json_node_get_double (node)))
    json_node_init_null (node);
}

char *
wkp_json_to_string (JsonNode *node, gboolean pretty)
{
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  char *text;

  null_non_finite (node);
  json_generator_set_root (gen, node);
  json_generator_set_pretty (gen, pretty);
  json_generator_set_indent (gen, 2);
  text = json_generator_to_data (gen, NULL);
  repair_exponents (text);
  return text;
}

GBytes *
wkp_json_to_bytes (JsonNode *node)
{
  char *s = wkp_json_to_string (node, TRUE);
  char *with_nl = g_strconcat (s, "\n", NULL);
  g_free (s);
  return g_bytes_new_take (with_nl, strlen (with_nl));
}

void
wkp_set_file_error (GError **error, GQuark domain, const char *path, const GError *local)
{
  if (g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
    g_set_error (error, domain, WKP_ERROR_NOT_FOUND, "%s: no such file", path);
  else if (g_file_test (path, G_FILE_TEST_IS_DIR))
    g_set_error (error, domain, WKP_ERROR_INVALID, "%s: is a folder, not a file", path);
  else if (g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_ACCES))
    g_set_error (error, domain, WKP_ERROR_IO, "%s: permission denied", path);
  else
    g_set_error (error, domain, WKP_ERROR_IO, "%s", local != NULL ? local->message : path);
}

gboolean
wkp_check_input_file (const char *path, GQuark domain, GError **error)
{
  struct stat st;
  if (stat (path, &st) == 0 && !S_ISREG (st.st_mode) && !S_ISDIR (st.st_mode))
    {
      g_set_error (error, domain, WKP_ERROR_INVALID, "%s: is not a regular file (a device, pipe or socket)", path);
      return FALSE;
    }
  return TRUE;
}

gsize
wkp_read_head (const char *path, void *buf, gsize size)
{
  FILE *f = g_file_test (path, G_FILE_TEST_IS_REGULAR) ? g_fopen (path, "rb") : NULL;
  gsize n;
  if (f == NULL)
    return 0;
  n = fread (buf, 1, size, f);
  fclose (f);
  return n;
}

GBytes *
wkp_read_file (const char *path, GError **error)
{
  char *contents = NULL;
  gsize len = 0;
  g_autoptr(GError) local = NULL;
  if (!wkp_check_input_file (path, WKP_IO_ERROR, error))
    return NULL;
  if (!g_file_get_contents (path, &contents, &len, &local))
    {
      wkp_set_file_error (error, WKP_IO_ERROR, path, local);
      return NULL;
    }
  wkp_io_note_input (path);
  return g_bytes_new_take (contents, len);
}

gboolean
wkp_json_parser_load (JsonParser *parser, const char *data, gsize len, GError **error)
{
  gboolean in_string = FALSE;
  int depth = 0;

  for (gsize i = 0; i < len; i++)
    {
      char ch = data[i];
      if (in_string)
        {
          if (ch == '\\')
            i++;
          else if (ch == '"')
            in_string = FALSE;
        }
      else if (ch == '"')
        in_string = TRUE;
      else if (ch == '[' || ch == '{')
        {
          if (++depth > WKP_JSON_MAX_DEPTH)
            {
              g_set_error (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_PARSE,
                           "nested more than %d levels deep (at byte %" G_GSIZE_FORMAT ")", WKP_JSON_MAX_DEPTH, i);
              return FALSE;
            }
        }
      else if (ch == ']' || ch == '}')
        depth--;
      else if (ch == '-' || g_ascii_isdigit (ch))
        {
          /* json-glib reads integers into a gint64 without an overflow check, so
           * 18446744073709551618 would silently become 2: refuse such literals */
          gsize j = i + (ch == '-');
          while (j < len && g_ascii_isdigit (data[j]))
            j++;
          if (j < len && (data[j] == '.' || data[j] == 'e' || data[j] == 'E'))
            {
              while (j < len && (g_ascii_isdigit (data[j]) || strchr (".eE+-", data[j]) != NULL))
                j++;
            }
          else
            {
              g_autofree char *lit = g_strndup (data + i, j - i);
              gint64 v;
              if (j - i > 1 + (ch == '-') && !g_ascii_string_to_signed (lit, 10, G_MININT64, G_MAXINT64, &v, NULL))
                {
                  g_set_error (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_INVALID_DATA,
                               "the integer %.40s%s does not fit in 64 bits (at byte %" G_GSIZE_FORMAT ")", lit,
                               strlen (lit) > 40 ? "…" : "", i);
                  return FALSE;
                }
            }
          i = j - 1;
        }
    }
  return json_parser_load_from_data (parser, data, (gssize) len, error);
}

JsonNode *
wkp_json_load_file (const char *path, GError **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GBytes) bytes = wkp_read_file (path, error);
  g_autoptr(GError) local = NULL;
  gsize len;
  const char *data;

  if (bytes == NULL)
    return NULL;
  data = g_bytes_get_data (bytes, &len);
  if (!wkp_json_parser_load (parser, data, len, &local))
    {
      g_set_error (error, WKP_IO_ERROR, WKP_ERROR_INVALID, "%s: invalid JSON: %s", path, local->message);
      return NULL;
    }
  if (json_parser_get_root (parser) == NULL)
    {
      g_set_error (error, WKP_IO_ERROR, WKP_ERROR_INVALID, "%s: empty file, expected JSON", path);
      return NULL;
    }
  return json_node_copy (json_parser_get_root (parser));
}

gboolean
wkp_json_node_is_number (JsonNode *node)
{
  return node != NULL && JSON_NODE_HOLDS_VALUE (node) &&
         (json_node_get_value_type (node) == G_TYPE_INT64 || json_node_get_value_type (node) == G_TYPE_DOUBLE);
}

gboolean
wkp_json_node_is_integer (JsonNode *node, gint64 min, gint64 max)
{
  return node != NULL && JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_INT64 &&
         json_node_get_int (node) >= min && json_node_get_int (node) <= max;
}

double
wkp_json_node_get_number (JsonNode *node)
{
  return json_node_get_value_type (node) == G_TYPE_INT64 ? (double) json_node_get_int (node)
                                                         : json_node_get_double (node);
}

const char *
wkp_json_get_string (JsonObject *o, const char *key)
{
  JsonNode *n = o != NULL ? json_object_get_member (o, key) : NULL;
  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (n);
}

static gint
extent_cmp (gconstpointer a, gconstpointer b)
{
  gint64 x = ((const WkpExtent *) a)->begin, y = ((const WkpExtent *) b)->begin;
  return x < y ? -1 : x > y;
}

const WkpExtent *
wkp_extents_find_overlap (GArray *extents, const WkpExtent **before)
{
  g_array_sort (extents, extent_cmp);
  for (guint k = 1; k < extents->len; k++)
    if (g_array_index (extents, WkpExtent, k).begin < g_array_index (extents, WkpExtent, k - 1).end)
      {
        *before = &g_array_index (extents, WkpExtent, k - 1);
        return &g_array_index (extents, WkpExtent, k);
      }
  return NULL;
}
