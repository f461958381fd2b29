/* wkp-media.c: FFmpeg-backed probing, audio decoding and frame reading. */
#include "wkp-media.h"
#include "wkp-io.h"

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libswresample/swresample.h>
#include <libswscale/swscale.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* errors                                                                    */

static void
set_av_error (GError **error, int code, int averr, const char *path, const char *what)
{
  char buf[AV_ERROR_MAX_STRING_SIZE] = { 0 };
  av_strerror (averr, buf, sizeof buf);
  g_set_error (error, WKP_MEDIA_ERROR, code, "%s: %s (%s)", path, what, buf);
}

void
wkp_ffmpeg_init (void)
{
  static gsize once = 0;
  if (g_once_init_enter (&once))
    {
      if (g_getenv ("WKP_FFMPEG_DEBUG") == NULL)
        av_log_set_level (AV_LOG_QUIET);   /* our errors name the file; FFmpeg logs some at FATAL level ("No JPEG data found") */
      g_once_init_leave (&once, 1);
    }
}

gboolean
wkp_bytes_look_like_text (const guint8 *p, gsize n)
{
  const char *end = NULL;
  for (gsize i = 0; i < n; i++)
    if ((p[i] < 0x20 && p[i] != '\t' && p[i] != '\n' && p[i] != '\r') || p[i] == 0x7f)
      return FALSE;
  /* (a multi-byte sequence may be cut at the end of the block read) */
  return g_utf8_validate ((const char *) p, (gssize) n, &end) || (const guint8 *) end + 4 >= p + n;
}

/* Opens @path, trusting content over extension. Distinguishes missing, empty
 * and unreadable files so that the message says which. */
WkpFileKind
wkp_file_sniff (const char *path)
{
  guint8 head[4096];
  gsize n;
  FILE *f;
  gboolean text;
  GStatBuf st;

  /* (a pipe would block the read: left to the callers' own checks) */
  if (g_stat (path, &st) != 0 || !S_ISREG (st.st_mode) || (f = fopen (path, "rb")) == NULL)
    return WKP_FILE_OTHER;
  n = fread (head, 1, sizeof head, f);
  fclose (f);
  if (n >= 6 && memcmp (head, "\x93NUMPY", 6) == 0)
    return WKP_FILE_NPY;
  if (n >= 8 && memcmp (head, "WKPMODEL", 8) == 0)
    return WKP_FILE_MODEL;
  if (n == 0)
    return WKP_FILE_OTHER;
  /* text, and JSON or CSV-like (text image formats such as ASCII PGM, XPM
   * or SVG are for FFmpeg) */
  text = wkp_bytes_look_like_text (head, n);
  if (text)
    {
      gsize i = 0, commas = 0;
      while (i < n && g_ascii_isspace (head[i]))
        i++;
      if (i < n && (head[i] == '{' || head[i] == '['))
        return WKP_FILE_TEXT;
      /* (not markup, and not a netpbm header "P2 # a comment, with commas") */
      if (i < n && (head[i] == '<' || (head[i] == 'P' && i + 1 < n && g_ascii_isdigit (head[i + 1]))))
        return WKP_FILE_OTHER;
      for (; i < n && head[i] != '\n'; i++)
        commas += head[i] == ',';
      if (commas >= 2)
        return WKP_FILE_TEXT;
    }
  return WKP_FILE_OTHER;
}

static int
compare_name_ptrs (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* Whether @name looks like a picture's file name: an image extension, or
 * none (VidTIMIT's frames 001, 002 ...). */
static gboolean
picture_name (const char *name)
{
  static const char *const ext[] = { ".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm" };
  g_autofree char *low = g_ascii_strdown (name, -1);
  if (strchr (name, '.') == NULL)
    return TRUE;
  for (guint i = 0; i < G_N_ELEMENTS (ext); i++)
    if (g_str_has_suffix (low, ext[i]))
      return TRUE;
  return FALSE;
}

/* The image-sequence pattern of the numbered pictures in @folder (the
 * first in name order that is one: wkp_media_sequence_for_frame), or NULL. */
char *
wkp_media_folder_sequence (const char *folder)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  GDir *d = g_dir_open (folder, 0, NULL);
  const char *name;
  if (d == NULL)
    return NULL;
  while ((name = g_dir_read_name (d)) != NULL && names->len < 100000)
    if (name[0] != '.' && picture_name (name))
      g_ptr_array_add (names, g_strdup (name));
  g_dir_close (d);
  g_ptr_array_sort (names, compare_name_ptrs);
  for (guint i = 0; i < names->len && i < 16; i++)
    {
      g_autofree char *file = g_build_filename (folder, names->pdata[i], NULL);
      char *pattern;
      if (!g_file_test (file, G_FILE_TEST_IS_REGULAR))
        continue;
      pattern = wkp_media_sequence_for_frame (file);
      if (pattern != NULL)
        return pattern;
    }
  return NULL;
}

/* TRUE when @path starts like an ISO media file (MP4, MOV: an "ftyp" box)
 * but its top-level boxes run past the end of the file before a "moov" box
 * (the index, which most writers put at the end): a file cut short. */
static gboolean
iso_file_cut_short (const char *path)
{
  FILE *f = g_fopen (path, "rb");
  GStatBuf st;
  guint64 at = 0;
  gboolean cut = FALSE;
  if (f == NULL)
    return FALSE;
  if (g_stat (path, &st) != 0)
    goto done;
  for (int k = 0; k < 10000; k++)
    {
      guint8 h[16];
      guint64 size;
      if (at == (guint64) st.st_size || fseeko (f, (off_t) at, SEEK_SET) != 0 || fread (h, 1, 8, f) != 8)
        break;
      if (k == 0 && memcmp (h + 4, "ftyp", 4) != 0)
        break;
      if (memcmp (h + 4, "moov", 4) == 0)
        break;
      size = (guint64) h[0] << 24 | (guint64) h[1] << 16 | (guint64) h[2] << 8 | h[3];
      if (size == 1)
        {
          if (fread (h + 8, 1, 8, f) != 8)
            {
              cut = TRUE;
              break;
            }
          size = 0;
          for (int i = 8; i < 16; i++)
            size = size << 8 | h[i];
        }
      else if (size == 0)   /* to the end of the file: no moov after it */
        size = (guint64) st.st_size - at;
      if (size < 8)
        break;
      if (at + size > (guint64) st.st_size || at + size == (guint64) st.st_size)
        {
          /* the last box: cut when it runs past the end, or when the file
           * ends without an index */
          cut = TRUE;
          break;
        }
      at += size;
    }
done:
  fclose (f);
  return cut;
}

static AVFormatContext *
open_input (const char *path, GError **error)
{
  AVFormatContext *fmt = NULL;
  GStatBuf st;
  int ret;

  wkp_ffmpeg_init ();
  if (g_stat (path, &st) != 0)
    {
      g_set_error (error, WKP_MEDIA_ERROR, WKP_ERROR_NOT_FOUND, "%s: no such file", path);
      return NULL;
    }
  if (S_ISDIR (st.st_mode))
    {
      g_autofree char *manifest = g_build_filename (path, "dataset.json", NULL);
      if (g_file_test (manifest, G_FILE_TEST_IS_REGULAR))
        g_set_error (error, WKP_MEDIA_ERROR, WKP_ERROR_INVALID,
                     "%s: is a prepared dataset, not a clip (open one of its clips' videos, listed in its "
                     "dataset.json; `wav2kp check` and `wav2kp evaluate` read the dataset itself)", path);
      else
        {
          /* the pattern of the frames in it, when they are a sequence (a
           * folder `wav2kp frames` wrote holds 000001.png ...) */
          g_autofree char *pattern = wkp_media_folder_sequence (path);
          if (pattern != NULL)
            g_set_error (error, WKP_MEDIA_ERROR, WKP_ERROR_INVALID,
                         "%s: is a folder; for the image sequence in it give its pattern, %s", path, pattern);
          else
            g_set_error (error, WKP_MEDIA_ERROR, WKP_ERROR_INVALID,
                         "%s: is a folder (for an image sequence give a pattern such as %s/%%06d.jpg)", path, path);
        }
      return NULL;
    }
  if (!S_ISREG (st.st_mode))
    {
      /* a pipe or a device: reading it could wait for ever */
      g_set_error (error, WKP_MEDIA_ERROR, WKP_ERROR_INVALID, "%s: is not a regular file", path);
      return NULL;
    }
  if (st.st_size == 0)
    {
      g_set_error (error, WKP_MEDIA_ERROR, WKP_ERROR_INVALID, "%s: file is empty (0 bytes)", path);
      return NULL;
    }
  /* FFmpeg guesses headerless formats from a few bytes: a .npy of
   * predictions was read as 84 s of AMR speech ("amrnb", probe score 26, as
   * high as an MPEG-PS file's) and predicted from, exit 0 */
  switch (wkp_file_sniff (path))
    {
    case WKP_FILE_NPY:
      g_set_error (error, WKP_MEDIA_ERROR, WKP_ERROR_INVALID,
                   "%s: is a NumPy array (.npy), not audio or video (`wav2kp probe` shows its shape)", path);
      return NULL;
    case WKP_FILE_MODEL:
      g_set_error (error, WKP_MEDIA_ERROR, WKP_ERROR_INVALID,
                   "%s: is a wav2kp model file, not audio or video (give it with --model)", path);
      return NULL;
    case WKP_FILE_TEXT:
      g_set_error (error, WKP_MEDIA_ERROR, WKP_ERROR_INVALID,
                   "%s: is a text file (JSON or CSV), not audio or video", path);
      return NULL;
    case WKP_FILE_OTHER:
    default:
      break;
    }
  ret = avformat_open_input (&fmt, path, NULL, NULL);
  if (ret < 0)
    {
      if (iso_file_cut_short (path))
        g_set_error (error, WKP_MEDIA_ERROR, WKP_ERROR_INVALID,
                     "%s: file is truncated (an MP4/MOV whose boxes end past the end of the file, without its "
                     "index, the moov box: a copy or a recording that did not finish)", path);
      else
        set_av_error (error, WKP_ERROR_INVALID, ret, path, "not a media file FFmpeg can read");
      return NULL;
    }
  wkp_io_note_input (path);
  ret = avformat_find_stream_info (fmt, NULL);
  if (ret < 0)
    {
      set_av_error (error, WKP_ERROR_INVALID, ret, path, "cannot read stream information");
      avformat_close_input (&fmt);
      return NULL;
    }
  return fmt;
}

static gint64
ts_to_us (gint64 ts, AVRational tb)
{
  if (ts == AV_NOPTS_VALUE)
    return 0;
  return av_rescale_q (ts, tb, AV_TIME_BASE_Q);
}

static int
find_video_stream (AVFormatContext *fmt)
{
  int idx = av_find_best_stream (fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
  if (idx >= 0 && (fmt->streams[idx]->disposition & AV_DISPOSITION_ATTACHED_PIC))
    idx = -1;
  return idx;
}

/* ------------------------------------------------------------------------ */
/* image sequences                                                           */

gboolean
wkp_media_is_pattern (const char *path)
{
  const char *p = path ? strchr (path, '%') : NULL;
  while (p != NULL)
    {
      const char *q = p + 1;
      while (g_ascii_isdigit (*q))
        q++;
      if (*q == 'd')
        return TRUE;
      p = strchr (q, '%');
    }
  return FALSE;
}

static char *
pattern_path (const char *pattern, gint64 index)
{
  /* only one %[0N]d conversion is allowed; format it ourselves so that the
   * pattern never reaches a printf format string */
  const char *p = strchr (pattern, '%');
  const char *q;
  int width = 0;
  gboolean zero = FALSE;

  while (p != NULL)
    {
      q = p + 1;
      if (*q == '0')
        zero = TRUE;
      width = 0;
      /* (a width beyond 64 digits names no real file: capped, so that
       * "%1500000000d" neither overflows nor builds gigabyte paths) */
      while (g_ascii_isdigit (*q))
        width = MIN (width * 10 + (*q++ - '0'), 64);
      if (*q == 'd')
        {
          g_autofree char *num = g_strdup_printf ("%" G_GINT64_FORMAT, index);
          GString *s = g_string_new_len (pattern, p - pattern);
          for (int i = (int) strlen (num); i < width; i++)
            g_string_append_c (s, zero ? '0' : ' ');
          g_string_append (s, num);
          g_string_append (s, q + 1);
          return g_string_free (s, FALSE);
        }
      p = strchr (q, '%');
    }
  return g_strdup (pattern);
}

typedef struct {
  gint64 first;
  gint64 count;
} Sequence;

/* The lowest number N for which @pattern names a file in its folder, or -1.
 * Only a pattern in the file name (not in a folder name) is looked up. */
static gint64
sequence_lowest_in_folder (const char *pattern)
{
  g_autofree char *dir = g_path_get_dirname (pattern), *base = g_path_get_basename (pattern);
  g_autoptr(GDir) d = NULL;
  const char *pc = strchr (base, '%'), *entry;
  const char *conv_end;
  gint64 lowest = -1;

  if (pc == NULL || strchr (dir, '%') != NULL || (d = g_dir_open (dir, 0, NULL)) == NULL)
    return -1;
  for (conv_end = pc + 1; g_ascii_isdigit (*conv_end); conv_end++)
    ;
  if (*conv_end != 'd')
    return -1;
  const gsize prefix_len = (gsize) (pc - base), suffix_len = strlen (conv_end + 1);
  while ((entry = g_dir_read_name (d)) != NULL)
    {
      const gsize len = strlen (entry);
      if (len <= prefix_len + suffix_len || strncmp (entry, base, prefix_len) != 0
          || strcmp (entry + len - suffix_len, conv_end + 1) != 0)
        continue;
      const char *digits = entry + prefix_len;
      const gsize n_digits = len - prefix_len - suffix_len;
      gboolean all = n_digits <= 15;
      for (gsize i = 0; all && i < n_digits; i++)
        all = g_ascii_isdigit (digits[i]);
      if (!all)
        continue;
      gint64 number = g_ascii_strtoll (digits, NULL, 10);
      if (lowest >= 0 && number >= lowest)
        continue;
      /* the pattern must give back exactly this name ("%06d" does not name "12.png") */
      g_autofree char *again = pattern_path (base, number);
      if (strcmp (again, entry) == 0)
        lowest = number;
    }
  return lowest;
}

static gboolean
sequence_scan (const char *pattern, Sequence *seq, GError **error)
{
  seq->first = -1;
  for (gint64 start = 0; start <= 5; start++)
    {
      g_autofree char *p = pattern_path (pattern, start);
      if (g_file_test (p, G_FILE_TEST_IS_REGULAR))
        {
          seq->first = start;
          break;
        }
    }
  /* an excerpt (`wav2kp frames --start 100` writes 000101.png on) starts
   * wherever its first file is */
  if (seq->first < 0)
    seq->first = sequence_lowest_in_folder (pattern);
  if (seq->first < 0)
    {
      g_set_error (error, WKP_MEDIA_ERROR, WKP_ERROR_NOT_FOUND,
                   "%s: image pattern matches no file", pattern);
      return FALSE;
    }
  seq->count = 0;
  for (;;)
    {
      g_autofree char *p = pattern_path (pattern, seq->first + seq->count);
      if (!g_file_test (p, G_FILE_TEST_IS_REGULAR))
        break;
      seq->count++;
    }
  /* a gap is not the end: frames after it would silently be dropped (a
   * 3 s clip read as 4 frames) and the audio would outlast the pictures */
  for (gint64 k = 1; k <= 1000; k++)
    {
      g_autofree char *p = pattern_path (pattern, seq->first + seq->count + k);
      if (g_file_test (p, G_FILE_TEST_IS_REGULAR))
        {
          g_autofree char *missing = pattern_path (pattern, seq->first + seq->count);
          g_set_error (error, WKP_MEDIA_ERROR, WKP_ERROR_INVALID,
                       "%s: frame %s is missing but the sequence goes on (%s): every later frame would be "
                       "dropped; fill the gap (e.g. repeat the frame before it)", pattern, missing, p);
          return FALSE;
        }
    }
  return TRUE;
}

char *
wkp_media_sequence_for_frame (const char *frame_path)
{
  g_autofree char *dir = NULL, *base = NULL, *name = NULL, *pattern = NULL;
  const char *end, *start;
  gint64 index;
  Sequence seq;
  int width;

  g_return_val_if_fail (frame_path != NULL, NULL);
  if (!g_file_test (frame_path, G_FILE_TEST_IS_REGULAR) || strchr (frame_path, '%') != NULL)
    return NULL;
  dir = g_path_get_dirname (frame_path);
  base = g_path_get_basename (frame_path);
  for (end = base + strlen (base); end > base && !g_ascii_isdigit (end[-1]); end--)
    ;
  for (start = end; start > base && g_ascii_isdigit (start[-1]); start--)
    ;
  width = (int) (end - start);
  if (width == 0 || width > 12)
    return NULL;
  index = g_ascii_strtoll (start, NULL, 10);
  name = g_strdup_printf ("%.*s%%0%dd%s", (int) (start - base), base, width, end);
  pattern = g_build_filename (dir, name, NULL);
  {
    /* a sequence has a neighbour, and the reader must find its start */
    g_autofree char *next = pattern_path (pattern, index + 1);
    g_autofree char *prev = index > 0 ? pattern_path (pattern, index - 1) : NULL;
    if (!g_file_test (next, G_FILE_TEST_IS_REGULAR) && (prev == NULL || !g_file_test (prev, G_FILE_TEST_IS_REGULAR)))
      return NULL;
  }
  if (!sequence_scan (pattern, &seq, NULL) || index < seq.first || index >= seq.first + seq.count)
    return NULL;
  return g_steal_pointer (&pattern);
}

/* ------------------------------------------------------------------------ */
/* probe                                                                     */

void
wkp_media_info_free (WkpMediaInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->path);
  g_free (info->container);
  g_free (info->video_codec);
  g_free (info->audio_codec);
  g_free (info);
}

gboolean
wkp_media_timing_irregular (gint64 error_us, WkpRational fps)
{
  return wkp_rational_is_valid (fps) && error_us > MAX (5000.0, 1e6 / wkp_rational_to_double (fps) / 4);
}

char *
wkp_media_timing_note (const WkpMediaInfo *info)
{
  double fps;
  if (info == NULL || !info->has_video || !wkp_media_timing_irregular (info->timing_error_us, info->fps))
    return NULL;
  fps = wkp_rational_to_double (info->fps);
  if (!info->resampled)
    return g_strdup_printf ("%s: the frames' timestamps jump (they start again, or span more than twice the "
                            "%" G_GINT64_FORMAT " pictures' time at %.3f fps: joined files or a broken clock), so it "
                            "is read one picture per frame at k/fps; where they jump, pictures and sound can be far "
                            "apart", info->path, info->n_decoded, fps);
  return g_strdup_printf ("%s: the frames' timestamps are irregular (a variable frame rate, or dropped frames): "
                          "they lie up to %.0f ms from a constant %.3f fps, so it is read by its timestamps on that "
                          "grid: frame k is the picture on screen at k/fps, %" G_GINT64_FORMAT " frames from %"
                          G_GINT64_FORMAT " pictures (%" G_GINT64_FORMAT " %s, %" G_GINT64_FORMAT
                          " %s)",
                          info->path, info->timing_error_us / 1000.0, fps, info->n_frames, info->n_decoded,
                          info->n_frames - info->n_shown,
                          info->n_frames - info->n_shown == 1 ? "frame repeats a picture" : "frames repeat a picture",
                          info->n_decoded - info->n_shown,
                          info->n_decoded - info->n_shown == 1 ? "picture is dropped" : "pictures are dropped");
}

static int
compare_gint64 (gconstpointer a, gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;
  return x < y ? -1 : x > y;
}

/* The frames' timestamps (@pts, sorted, in ticks of @tb) against the
 * constant rate @fps (frame k at k/fps from the first): the largest
 * distance, in microseconds. */
static gint64
timing_error_us (GArray *pts, AVRational tb, WkpRational fps)
{
  gint64 worst = 0, first;
  if (pts->len < 2 || !wkp_rational_is_valid (fps))
    return 0;
  first = ts_to_us (g_array_index (pts, gint64, 0), tb);
  for (guint k = 0; k < pts->len; k++)
    {
      gint64 d = ts_to_us (g_array_index (pts, gint64, k), tb) - first - wkp_frame_to_us (k, fps);
      worst = MAX (worst, ABS (d));
    }
  return worst;
}

/* The frame of the constant grid at @fps whose start lies nearest to @rel
 * (ticks of @tb after the first picture; a tie goes to the later frame, as
 * FFmpeg's fps filter with round=near rounds, exactly in the stream's own
 * ticks): how a video with irregular timing is read (wkp_video_reader),
 * and how seeks find a frame. */
static gint64
grid_slot (gint64 rel, AVRational tb, WkpRational fps)
{
  return av_rescale_q_rnd (rel, tb, (AVRational) { fps.den, fps.num }, AV_ROUND_NEAR_INF);
}

/* Counts the video packets (one per frame for every demuxer we meet, with
 * parsers splitting elementary streams). *@raw receives their timestamps
 * in the stream's time base, sorted; NULL when a packet has none (MPEG-PS and raw streams may leave them
 * out: nothing to measure then). *@jumps_back is TRUE when a timestamp in
 * file order lies more than 16 frames at @fps (and 0.2 s) before one
 * already read: a stream whose timestamps start again (joined files);
 * B-frames reorder by at most 16 pictures, H.264's deepest buffer. */
static gint64
count_video_packets (AVFormatContext *fmt, int vidx, WkpRational fps, gint64 *all_packets, GArray **raw,
                     gboolean *jumps_back)
{
  AVPacket *pkt = av_packet_alloc ();
  AVRational tb = fmt->streams[vidx]->time_base;
  GArray *stamps = g_array_new (FALSE, FALSE, sizeof (gint64));
  gboolean all_pts = TRUE;
  gint64 n = 0, latest = G_MININT64;
  gint64 back = av_rescale_q (MAX (wkp_frame_to_us (16, fps), 200000), AV_TIME_BASE_Q, tb);
  *jumps_back = FALSE;
  for (unsigned i = 0; i < fmt->nb_streams; i++)
    if ((int) i != vidx)
      fmt->streams[i]->discard = AVDISCARD_ALL;
  *all_packets = 0;
  while (av_read_frame (fmt, pkt) >= 0)
    {
      /* packets before an MP4 edit list's start are decoded but their
       * pictures are dropped: they are not frames of the video */
      if (pkt->stream_index == vidx)
        {
          (*all_packets)++;
          if (!(pkt->flags & AV_PKT_FLAG_DISCARD))
            {
              gint64 t = pkt->pts;
              n++;
              all_pts &= t != AV_NOPTS_VALUE;
              if (t != AV_NOPTS_VALUE)
                {
                  if (latest != G_MININT64 && t < latest - back)
                    *jumps_back = TRUE;
                  latest = MAX (latest, t);
                  g_array_append_val (stamps, t);
                }
            }
        }
      av_packet_unref (pkt);
    }
  av_packet_free (&pkt);
  if (n == 0 || !all_pts)
    g_clear_pointer (&stamps, g_array_unref);
  else
    g_array_sort (stamps, compare_gint64);
  *raw = stamps;
  return n;
}

static WkpMediaInfo *probe_sequence (const char *pattern, WkpRational fps, GError **error);

char *
wkp_media_companion_wav (const char *video)
{
  g_autofree char *base = g_path_get_basename (video);
  g_autofree char *dir = g_path_get_dirname (video);
  g_autofree char *parent = g_path_get_dirname (dir);
  g_autofree char *wav_name = NULL, *beside = NULL, *sibling = NULL;
  char *dot = strrchr (base, '.');

  if (dot != NULL && dot != base)
    *dot = '\0';
  wav_name = g_strconcat (base, ".wav", NULL);
  beside = g_build_filename (dir, wav_name, NULL);
  sibling = g_build_filename (parent, "wav", wav_name, NULL);
  if (g_strcmp0 (beside, video) != 0 && g_file_test (beside, G_FILE_TEST_IS_REGULAR))
    return g_canonicalize_filename (beside, NULL);
  if (g_file_test (sibling, G_FILE_TEST_IS_REGULAR))
    return g_canonicalize_filename (sibling, NULL);
  return NULL;
}

char *
wkp_media_silent_video_companion (const char *video)
{
  g_autofree char *companion = NULL;
  g_autoptr(WkpMediaInfo) info = NULL;
  if (video == NULL || wkp_media_is_pattern (video) || (companion = wkp_media_companion_wav (video)) == NULL)
    return NULL;
  info = wkp_media_probe (video, WKP_RATIONAL (0, 0), WKP_PROBE_DEFAULT, NULL);
  return info != NULL && info->has_video && !info->has_audio ? g_steal_pointer (&companion) : NULL;
}

/* The bytes of sound a WAV file's "data" chunk header counts, and how many
 * bytes per second; FALSE when the header does not say or this is not a
 * RIFF/WAVE file. Writers to a pipe cannot go back to fill the size in and
 * leave a placeholder: 0, 0xFFFFFFFF, SoX's 0x7FFFF000, arecord's 0x7FFFFFFF;
 * so any size from 0x7FFFF000 up counts as unknown (a real one would be a
 * file over 2 GB). FFmpeg reads a file cut short without a word (its
 * duration then comes from the file size). */
static gboolean
wav_declared (const char *path, guint64 *data_bytes, guint64 *present, guint32 *byte_rate)
{
  guint8 h[12], c[8], fmtc[16];
  gboolean ok = FALSE;
  struct stat sb;
  FILE *f = g_file_test (path, G_FILE_TEST_IS_REGULAR) ? g_fopen (path, "rb") : NULL;
  *byte_rate = 0;
  if (f == NULL || fstat (fileno (f), &sb) != 0 || fread (h, 1, 12, f) != 12 || memcmp (h, "RIFF", 4) != 0
      || memcmp (h + 8, "WAVE", 4) != 0)
    goto done;
  for (int k = 0; k < 64 && fread (c, 1, 8, f) == 8; k++)
    {
      guint32 size = c[4] | (guint32) c[5] << 8 | (guint32) c[6] << 16 | (guint32) c[7] << 24;
      if (memcmp (c, "fmt ", 4) == 0 && size >= 16)
        {
          if (fread (fmtc, 1, 16, f) != 16)
            goto done;
          *byte_rate = fmtc[8] | (guint32) fmtc[9] << 8 | (guint32) fmtc[10] << 16 | (guint32) fmtc[11] << 24;
          size -= 16;
        }
      else if (memcmp (c, "data", 4) == 0)
        {
          long at = ftell (f);
          if (size == 0 || size >= 0x7FFFF000u || at < 0 || *byte_rate == 0)
            goto done;
          *data_bytes = size;
          *present = (guint64) sb.st_size > (guint64) at ? (guint64) sb.st_size - (guint64) at : 0;
          ok = TRUE;
          goto done;
        }
      if (fseek (f, (long) size + (size & 1), SEEK_CUR) != 0)
        goto done;
    }
done:
  if (f != NULL)
    fclose (f);
  return ok;
}

gboolean
wkp_media_is_mpeg_ps (const char *path)
{
  static const guchar pack[4] = { 0x00, 0x00, 0x01, 0xba };
  guchar head[4];
  return wkp_read_head (path, head, sizeof head) == sizeof head && memcmp (head, pack, sizeof pack) == 0;
}

gboolean
wkp_media_remux (const char *path, const char *out_path, GCancellable *cancellable, GError **error)
{
  AVFormatContext *in = open_input (path, error);
  AVFormatContext *out = NULL;
  AVPacket *pkt = NULL;
  g_autofree int *map = NULL;
  g_autofree gint64 *shift = NULL;
  gint64 start = AV_NOPTS_VALUE;
  gboolean ok = FALSE;
  int n_out = 0, ret;

  if (in == NULL)
    return FALSE;
  ret = avformat_alloc_output_context2 (&out, NULL, "matroska", out_path);
  if (ret < 0)
    {
      set_av_error (error, WKP_ERROR_UNSUPPORTED, ret, out_path, "cannot set up a Matroska copy");
      goto done;
    }
  map = g_new (int, MAX (in->nb_streams, 1));
  shift = g_new0 (gint64, MAX (in->nb_streams, 1));
  for (unsigned i = 0; i < in->nb_streams; i++)
    {
      AVStream *is = in->streams[i], *os;
      enum AVMediaType type = is->codecpar->codec_type;
      map[i] = -1;
      if ((type != AVMEDIA_TYPE_VIDEO && type != AVMEDIA_TYPE_AUDIO) || (is->disposition & AV_DISPOSITION_ATTACHED_PIC))
        continue;
      os = avformat_new_stream (out, NULL);
      if (os == NULL || avcodec_parameters_copy (os->codecpar, is->codecpar) < 0)
        {
          g_set_error (error, WKP_MEDIA_ERROR, WKP_ERROR_FAILED, "%s: out of memory", out_path);
          goto done;
        }
      os->codecpar->codec_tag = 0;
      os->time_base = is->time_base;
      map[i] = n_out++;
      if (is->start_time != AV_NOPTS_VALUE)
        {
          gint64 s = av_rescale_q (is->start_time, is->time_base, AV_TIME_BASE_Q);
          start = start == AV_NOPTS_VALUE ? s : MIN (start, s);
        }
    }
  if (n_out == 0)
    {
      g_set_error (error, WKP_MEDIA_ERROR, WKP_ERROR_INVALID, "%s: no audio or video stream", path);
      goto done;
    }
  for (unsigned i = 0; i < in->nb_streams; i++)
    shift[i] = start == AV_NOPTS_VALUE ? 0 : av_rescale_q (start, AV_TIME_BASE_Q, in->streams[i]->time_base);
  ret = avio_open (&out->pb, out_path, AVIO_FLAG_WRITE);
  if (ret >= 0)
    ret = avformat_write_header (out, NULL);
  if (ret < 0)
    {
      set_av_error (error, WKP_ERROR_FAILED, ret, out_path, "cannot write");
      goto done;
    }
  pkt = av_packet_alloc ();
  while ((ret = av_read_frame (in, pkt)) >= 0)
    {
      int si = pkt->stream_index;
      if (wkp_check_cancelled (cancellable, error))
        {
          av_packet_unref (pkt);
          goto done;
        }
      if (si < 0 || (unsigned) si >= in->nb_streams || map[si] < 0)
        {
          av_packet_unref (pkt);
          continue;
        }
      if (pkt->pts != AV_NOPTS_VALUE)
        pkt->pts -= shift[si];
      if (pkt->dts != AV_NOPTS_VALUE)
        pkt->dts -= shift[si];
      pkt->stream_index = map[si];
      av_packet_rescale_ts (pkt, in->streams[si]->time_base, out->streams[map[si]]->time_base);
      pkt->pos = -1;
      ret = av_interleaved_write_frame (out, pkt);
      if (ret < 0)
        {
          set_av_error (error, WKP_ERROR_FAILED, ret, out_path, "cannot write");
          goto done;
        }
    }
  if (ret != AVERROR_EOF)
    {
      set_av_error (error, WKP_ERROR_INVALID, ret, path, "cannot read");
      goto done;
    }
  ret = av_write_trailer (out);
  if (ret < 0)
    {
      set_av_error (error, WKP_ERROR_FAILED, ret, out_path, "cannot write");
      goto done;
    }
  ok = TRUE;

done:
  av_packet_free (&pkt);
  if (out != NULL)
    {
      if (out->pb != NULL)
        avio_closep (&out->pb);
      avformat_free_context (out);
      if (!ok)
        g_unlink (out_path);
    }
  avformat_close_input (&in);
  return ok;
}

WkpMediaInfo *
wkp_media_probe (const char *path, WkpRational fps, WkpProbeFlags flags, GError **error)
{
  AVFormatContext *fmt;
  WkpMediaInfo *info;
  int vidx, aidx;

  g_return_val_if_fail (path != NULL, NULL);

  if (wkp_media_is_pattern (path))
    return probe_sequence (path, fps, error);

  fmt = open_input (path, error);
  if (fmt == NULL)
    return NULL;

  info = g_new0 (WkpMediaInfo, 1);
  info->path = g_strdup (path);
  info->container = g_strdup (fmt->iformat->name);
  info->duration_us = fmt->duration != AV_NOPTS_VALUE ? fmt->duration : -1;

  vidx = find_video_stream (fmt);
  if (vidx >= 0)
    {
      AVStream *st = fmt->streams[vidx];
      AVRational r = st->avg_frame_rate.num > 0 ? st->avg_frame_rate : st->r_frame_rate;
      info->has_video = TRUE;
      info->video_codec = g_strdup (avcodec_get_name (st->codecpar->codec_id));
      info->width = st->codecpar->width;
      info->height = st->codecpar->height;
      if (r.num <= 0 || r.den <= 0)
        r = (AVRational) { 25, 1 };
      av_reduce (&r.num, &r.den, r.num, r.den, G_MAXINT32);
      info->fps = WKP_RATIONAL (r.num, r.den);
      info->video_start_us = ts_to_us (st->start_time, st->time_base);
      /* an estimate (WKP_PROBE_COUNT_FRAMES counts): the stream duration
       * honours MP4 edit lists, which the sample count nb_frames does not */
      if (st->duration != AV_NOPTS_VALUE && st->duration > 0)
        info->n_frames = av_rescale_q_rnd (st->duration, st->time_base, av_inv_q (r),
                                           AV_ROUND_NEAR_INF | AV_ROUND_PASS_MINMAX);
      else if (st->nb_frames > 0)
        info->n_frames = st->nb_frames;
      else if (info->duration_us > 0)
        info->n_frames = wkp_us_to_frame (info->duration_us, info->fps);
    }

  aidx = av_find_best_stream (fmt, AVMEDIA_TYPE_AUDIO, -1, -1, NULL, 0);
  if (aidx >= 0)
    {
      AVStream *st = fmt->streams[aidx];
      info->has_audio = TRUE;
      info->audio_codec = g_strdup (avcodec_get_name (st->codecpar->codec_id));
      info->sample_rate = st->codecpar->sample_rate;
      info->channels = st->codecpar->ch_layout.nb_channels;
      info->audio_start_us = ts_to_us (st->start_time, st->time_base);
    }

  if (!info->has_video && !info->has_audio)
    {
      g_set_error (error, WKP_MEDIA_ERROR, WKP_ERROR_INVALID, "%s: has neither a video nor an audio stream", path);
      avformat_close_input (&fmt);
      wkp_media_info_free (info);
      return NULL;
    }

  if (info->has_video && (flags & WKP_PROBE_COUNT_FRAMES))
    {
      gint64 declared = fmt->streams[vidx]->nb_frames, all = 0;
      AVRational tb = fmt->streams[vidx]->time_base;
      g_autoptr(GArray) raw = NULL;
      gboolean jumps_back = FALSE;
      info->n_frames = info->n_decoded = count_video_packets (fmt, vidx, info->fps, &all, &raw, &jumps_back);
      info->n_frames_counted = TRUE;
      info->timing_error_us = raw != NULL ? timing_error_us (raw, tb, info->fps) : 0;
      if (wkp_media_timing_irregular (info->timing_error_us, info->fps))
        {
          /* FFmpeg estimates the average rate of a stream without a declared
           * one from its timestamps: 1000/33 for 30 fps in Matroska's whole
           * milliseconds. When the stream's base rate reads them as regular,
           * that is the rate (only counted probes can tell) */
          AVRational rr = fmt->streams[vidx]->r_frame_rate;
          if (rr.num > 0 && rr.den > 0)
            {
              WkpRational base;
              gint64 e;
              av_reduce (&rr.num, &rr.den, rr.num, rr.den, G_MAXINT32);
              base = WKP_RATIONAL (rr.num, rr.den);
              e = timing_error_us (raw, tb, base);
              if ((base.num != info->fps.num || base.den != info->fps.den) && !wkp_media_timing_irregular (e, base))
                {
                  info->fps = base;
                  info->timing_error_us = e;
                  info->fps_from_base = TRUE;
                }
            }
        }
      if (raw != NULL && wkp_media_timing_irregular (info->timing_error_us, info->fps))
        {
          const gint64 *t = (const gint64 *) (void *) raw->data;
          gint64 span_us = ts_to_us (t[raw->len - 1] - t[0], tb);
          /* timestamps that start again, or that span more than twice the
           * pictures' time at the rate, are a jump (joined files, a broken
           * clock), not a variable rate: read one picture per frame, as
           * said (a 6 s clip whose second half was stamped 10 min later
           * would have been read as 15,000 frames of one picture) */
          info->timing_jumps = jumps_back || span_us > 2 * wkp_frame_to_us (info->n_decoded, info->fps);
          if (!info->timing_jumps)
            {
              /* read on the grid by the timestamps (wkp_video_reader): picture
               * i is shown unless the next one falls on the same frame */
              gint64 slot = 0, next;
              info->resampled = TRUE;
              info->video_first_pts = t[0];
              info->n_shown = 1;
              for (guint i = 1; i < raw->len; i++, slot = next)
                {
                  next = grid_slot (t[i] - t[0], tb, info->fps);
                  info->n_shown += next > slot;
                }
              info->n_frames = slot + 1;
            }
        }
      /* MP4/MOV index every sample: fewer packets than the index promises
       * means the file was cut short. */
      if (declared > 0 && all < declared && strstr (info->container, "mp4") != NULL)
        {
          g_set_error (error, WKP_MEDIA_ERROR, WKP_ERROR_INVALID,
                       "%s: file is truncated (its index lists %" G_GINT64_FORMAT " video frames, only %"
                       G_GINT64_FORMAT " are present)", path, declared, all);
          avformat_close_input (&fmt);
          wkp_media_info_free (info);
          return NULL;
        }
      if (info->n_frames == 0)
        {
          g_set_error (error, WKP_MEDIA_ERROR, WKP_ERROR_INVALID, "%s: video stream has no frames", path);
          avformat_close_input (&fmt);
          wkp_media_info_free (info);
          return NULL;
        }
    }

  avformat_close_input (&fmt);
  return info;
}

/* The frame rate `wav2kp frames` recorded in frames.json beside the PNGs
 * of @pattern (numbered %06d.png); FALSE when there is none. */
static gboolean
sequence_recorded_fps (const char *pattern, WkpRational *fps)
{
  g_autofree char *dir = g_path_get_dirname (pattern), *base = g_path_get_basename (pattern);
  g_autofree char *json = g_build_filename (dir, "frames.json", NULL);
  g_autoptr(JsonNode) root = NULL;
  const char *rate;

  if (g_strcmp0 (base, "%06d.png") != 0 || !g_file_test (json, G_FILE_TEST_IS_REGULAR)
      || (root = wkp_json_load_file (json, NULL)) == NULL || !JSON_NODE_HOLDS_OBJECT (root)
      || g_strcmp0 (wkp_json_get_string (json_node_get_object (root), "kind"), "wav2kp.frames") != 0)
    return FALSE;
  rate = wkp_json_get_string (json_node_get_object (root), "fps");
  return rate != NULL && wkp_frame_rate_parse (rate, fps, NULL);
}

gboolean
wkp_media_sequence_recorded_rate (const char *pattern, WkpRational *fps)
{
  WkpRational r;
  g_return_val_if_fail (pattern != NULL, FALSE);
  if (!sequence_recorded_fps (pattern, &r))
    return FALSE;
  if (fps != NULL)
    *fps = r;
  return TRUE;
}

WkpRational
wkp_media_sequence_rate (const char *pattern, WkpRational given)
{
  WkpRational fps;
  g_return_val_if_fail (pattern != NULL, WKP_DEFAULT_FPS);
  if (wkp_rational_is_valid (given))
    return given;
  return sequence_recorded_fps (pattern, &fps) ? fps : WKP_DEFAULT_FPS;
}

/* @fps: as given; when not (0/0), the rate `wav2kp frames` recorded for
 * these frames (a 29.97 fps clip's PNGs were read back at 25 fps: 8.36 s
 * of pictures against 6.99 s of sound), else WKP_DEFAULT_FPS */
static WkpMediaInfo *
probe_sequence (const char *pattern, WkpRational fps, GError **error)
{
  Sequence seq;
  AVFormatContext *fmt;
  g_autofree char *first = NULL;
  WkpMediaInfo *info;
  int vidx;

  if (!sequence_scan (pattern, &seq, error))
    return NULL;
  first = pattern_path (pattern, seq.first);
  fmt = open_input (first, error);
  if (fmt == NULL)
    return NULL;
  vidx = find_video_stream (fmt);
  if (vidx < 0)
    {
      g_set_error (error, WKP_MEDIA_ERROR, WKP_ERROR_INVALID, "%s: first image %s is not a picture", pattern, first);
      avformat_close_input (&fmt);
      return NULL;
    }
  /* named like a JPEG but holding no picture FFmpeg can decode: no size
   * (it used to probe as a 0x0 sequence) */
  if (fmt->streams[vidx]->codecpar->width <= 0 || fmt->streams[vidx]->codecpar->height <= 0)
    {
      g_set_error (error, WKP_MEDIA_ERROR, WKP_ERROR_INVALID, "%s: first image %s cannot be decoded", pattern, first);
      avformat_close_input (&fmt);
      return NULL;
    }
  info = g_new0 (WkpMediaInfo, 1);
  info->path = g_strdup (pattern);
  info->container = g_strdup_printf ("image2 (%s)", fmt->iformat->name);
  info->is_image_sequence = TRUE;
  info->has_video = TRUE;
  info->video_codec = g_strdup (avcodec_get_name (fmt->streams[vidx]->codecpar->codec_id));
  info->width = fmt->streams[vidx]->codecpar->width;
  info->height = fmt->streams[vidx]->codecpar->height;
  info->fps = wkp_media_sequence_rate (pattern, fps);
  info->n_frames = seq.count;
  info->n_frames_counted = TRUE;
  info->duration_us = wkp_frame_to_us (seq.count, info->fps);
  avformat_close_input (&fmt);
  return info;
}

JsonNode *
wkp_media_info_to_json (const WkpMediaInfo *info)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "path");
  json_builder_add_string_value (b, info->path);
  json_builder_set_member_name (b, "container");
  json_builder_add_string_value (b, info->container);
  json_builder_set_member_name (b, "duration_us");
  json_builder_add_int_value (b, info->duration_us);
  json_builder_set_member_name (b, "image_sequence");
  json_builder_add_boolean_value (b, info->is_image_sequence);
  json_builder_set_member_name (b, "video");
  if (info->has_video)
    {
      g_autofree char *fps = wkp_rational_to_string (info->fps);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "codec");
      json_builder_add_string_value (b, info->video_codec);
      json_builder_set_member_name (b, "width");
      json_builder_add_int_value (b, info->width);
      json_builder_set_member_name (b, "height");
      json_builder_add_int_value (b, info->height);
      json_builder_set_member_name (b, "fps");
      json_builder_add_string_value (b, fps);
      json_builder_set_member_name (b, "fps_num");
      json_builder_add_int_value (b, info->fps.num);
      json_builder_set_member_name (b, "fps_den");
      json_builder_add_int_value (b, info->fps.den);
      json_builder_set_member_name (b, "frames");
      json_builder_add_int_value (b, info->n_frames);
      json_builder_set_member_name (b, "frames_counted");
      json_builder_add_boolean_value (b, info->n_frames_counted);
      if (info->n_frames_counted && !info->is_image_sequence)
        {
          /* how far the frames lie from k/fps (counted probes) */
          json_builder_set_member_name (b, "timing_error_ms");
          json_builder_add_double_value (b, info->timing_error_us / 1000.0);
          /* frames is the constant grid's when resampled, pictures the file's */
          json_builder_set_member_name (b, "resampled");
          json_builder_add_boolean_value (b, info->resampled);
          json_builder_set_member_name (b, "pictures");
          json_builder_add_int_value (b, info->n_decoded);
          if (info->resampled)
            {
              json_builder_set_member_name (b, "pictures_shown");
              json_builder_add_int_value (b, info->n_shown);
            }
        }
      json_builder_set_member_name (b, "start_us");
      json_builder_add_int_value (b, info->video_start_us);
      json_builder_end_object (b);
    }
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "audio");
  if (info->has_audio)
    {
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "codec");
      json_builder_add_string_value (b, info->audio_codec);
      json_builder_set_member_name (b, "sample_rate");
      json_builder_add_int_value (b, info->sample_rate);
      json_builder_set_member_name (b, "channels");
      json_builder_add_int_value (b, info->channels);
      json_builder_set_member_name (b, "start_us");
      json_builder_add_int_value (b, info->audio_start_us);
      json_builder_end_object (b);
    }
  else
    json_builder_add_null_value (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

/* ------------------------------------------------------------------------ */
/* audio                                                                     */

WkpAudio *
wkp_audio_new (gint64 n_samples, int rate)
{
  WkpAudio *a = g_new0 (WkpAudio, 1);
  a->n_samples = n_samples;
  a->rate = rate;
  a->samples = g_new0 (float, MAX (n_samples, 1));
  return a;
}

void
wkp_audio_free (WkpAudio *audio)
{
  if (audio == NULL)
    return;
  g_free (audio->samples);
  g_free (audio);
}

/* @n samples moved @shift samples earlier: > 0 drops the first @shift (a
 * sound that came late), < 0 puts -@shift samples of silence before them.
 * Returns the new samples (at least one allocated) and their count. */
static float *
samples_shift (const float *samples, gint64 n, gint64 shift, gint64 *n_out)
{
  gint64 m = shift >= 0 ? MAX (n - shift, 0) : n - shift;
  float *out = g_new0 (float, MAX (m, 1));
  if (shift >= 0 && m > 0)
    memcpy (out, samples + shift, m * sizeof (float));
  else if (shift < 0 && n > 0)
    memcpy (out + (-shift), samples, n * sizeof (float));
  *n_out = m;
  return out;
}

void
wkp_audio_shift_frames (WkpAudio *audio, int frames, WkpRational fps)
{
  gint64 s, n;
  float *moved;
  if (audio == NULL || frames == 0)
    return;
  s = wkp_frame_to_sample (ABS (frames), fps, audio->rate);
  moved = samples_shift (audio->samples, audio->n_samples, frames > 0 ? s : -s, &n);
  g_free (audio->samples);
  audio->samples = moved;
  audio->n_samples = n;
}

typedef struct {
  float *data;
  gint64 len;
  gint64 cap;
} FloatBuf;

static void
buf_reserve (FloatBuf *b, gint64 extra)
{
  if (b->len + extra > b->cap)
    {
      b->cap = MAX (b->cap * 2, b->len + extra + 4096);
      b->data = g_renew (float, b->data, b->cap);
    }
}

/* Down-mix to mono. The plain average of the channels, except that a channel
 * in antiphase with the reference (correlation below -0.5: a microphone wired
 * with reversed polarity) is inverted first, or the speech would cancel to
 * near silence. The reference is the first channel, or the loudest one when
 * the first is more than 20 dB below it (a dead or unplugged channel 1, which
 * says nothing about the others' polarity). The polarities are decided on the
 * first 10 s of sound (samples above -60 dBFS; leading silence does not
 * count), held back until then, or on the first 2 minutes if they hold less
 * sound than that. */
#define MIX_DECIDE_SOUND_SECONDS 10
#define MIX_HOLD_MAX_SECONDS 120
#define MIX_SOUND_LEVEL 1e-3f
#define MIX_ANTIPHASE_R (-0.5)
#define MIX_REFERENCE_QUIET 0.01   /* energy ratio: -20 dB */

typedef struct {
  int      nch;
  gint64   decide_after;   /* samples of sound per channel */
  gint64   hold_max;       /* samples per channel held at most */
  gint64   sound;          /* samples held with any channel above MIX_SOUND_LEVEL */
  gboolean decided;
  float   *sign;           /* nch */
  double  *energy;         /* sum x_c^2, per channel */
  FloatBuf held;           /* interleaved, until decided */
  int      reference;      /* the channel the others' polarity is judged against */
  guint64  inverted;
} Mixer;

static void
mixer_init_for (Mixer *m, int nch, int rate, double decide_seconds, double hold_seconds)
{
  memset (m, 0, sizeof *m);
  m->nch = nch;
  m->decide_after = MAX ((gint64) (rate * decide_seconds), 1);
  m->hold_max = MAX ((gint64) (rate * hold_seconds), 1);
  m->decided = nch == 1;
  m->sign = g_new (float, nch);
  m->energy = g_new0 (double, nch);
  for (int c = 0; c < nch; c++)
    m->sign[c] = 1.0f;
}

static void
mixer_init (Mixer *m, int nch, int rate)
{
  mixer_init_for (m, nch, rate, MIX_DECIDE_SOUND_SECONDS, MIX_HOLD_MAX_SECONDS);
}

static void
mixer_clear (Mixer *m)
{
  g_free (m->sign);
  g_free (m->energy);
  g_free (m->held.data);
  memset (m, 0, sizeof *m);
}

static void
mix_into (const Mixer *m, const float *x, gint64 n, FloatBuf *out)
{
  float scale = 1.0f / (float) m->nch;
  buf_reserve (out, n);
  for (gint64 i = 0; i < n; i++)
    {
      float acc = 0.0f;
      for (int c = 0; c < m->nch; c++)
        acc += m->sign[c] * x[i * m->nch + c];
      out->data[out->len + i] = acc * scale;
    }
  out->len += n;
}

static void
mixer_decide (Mixer *m, FloatBuf *out)
{
  gint64 n = m->held.len / m->nch;
  int ref = 0;
  for (int c = 1; c < m->nch; c++)
    if (m->energy[c] > m->energy[ref])
      ref = c;
  if (m->energy[0] >= MIX_REFERENCE_QUIET * m->energy[ref])
    ref = 0;
  m->reference = ref;
  for (int c = 0; c < m->nch; c++)
    {
      double cross = 0;
      if (c == ref || !(m->energy[ref] > 0) || !(m->energy[c] > 0))
        continue;
      for (gint64 i = 0; i < n; i++)
        cross += (double) m->held.data[i * m->nch + ref] * m->held.data[i * m->nch + c];
      if (cross / sqrt (m->energy[ref] * m->energy[c]) < MIX_ANTIPHASE_R)
        {
          m->sign[c] = -1.0f;
          if (c < 64)
            m->inverted |= G_GUINT64_CONSTANT (1) << c;
        }
    }
  m->decided = TRUE;
  mix_into (m, m->held.data, m->held.len / m->nch, out);
  g_clear_pointer (&m->held.data, g_free);
  m->held.len = m->held.cap = 0;
}

/* @x: @n interleaved samples of every channel */
static void
mixer_push (Mixer *m, const float *x, gint64 n, FloatBuf *out)
{
  if (m->decided)
    {
      mix_into (m, x, n, out);
      return;
    }
  for (gint64 i = 0; i < n; i++)
    {
      const float *f = x + i * m->nch;
      gboolean loud = FALSE;
      for (int c = 0; c < m->nch; c++)
        {
          m->energy[c] += (double) f[c] * f[c];
          loud |= fabsf (f[c]) > MIX_SOUND_LEVEL;
        }
      m->sound += loud;
    }
  buf_reserve (&m->held, n * m->nch);
  memcpy (m->held.data + m->held.len, x, (gsize) (n * m->nch) * sizeof (float));
  m->held.len += n * m->nch;
  if (m->sound >= m->decide_after || m->held.len / m->nch >= m->hold_max)
    mixer_decide (m, out);
}

static gboolean
convert_and_append (SwrContext *swr, AVFrame *frame, Mixer *mixer, FloatBuf *scratch, FloatBuf *out)
{
  int in_n = frame ? frame->nb_samples : 0;
  int max_out = swr_get_out_samples (swr, in_n);
  uint8_t *dst;
  int got;

  if (max_out <= 0)
    return TRUE;
  scratch->len = 0;
  buf_reserve (scratch, (gint64) max_out * mixer->nch);
  dst = (uint8_t *) scratch->data;
  got = swr_convert (swr, &dst, max_out,
                     frame ? (const uint8_t **) frame->extended_data : NULL, in_n);
  if (got < 0)
    return FALSE;
  mixer_push (mixer, scratch->data, got, out);
  return TRUE;
}

WkpAudio *
wkp_audio_load (const char *path, int rate, gint64 *start_us, GCancellable *cancellable, GError **error)
{
  AVFormatContext *fmt = NULL;
  AVCodecContext *dec = NULL;
  SwrContext *swr = NULL;
  AVPacket *pkt = NULL;
  AVFrame *frame = NULL;
  FloatBuf buf = { 0 }, scratch = { 0 };
  Mixer mixer = { 0 };
  WkpAudio *audio = NULL;
  const AVCodec *codec;
  int aidx, ret, nch;
  gint64 decode_errors = 0, packets = 0, n_decoded = 0;

  g_return_val_if_fail (path != NULL && rate > 0, NULL);

  if (wkp_media_is_pattern (path))
    {
      g_set_error (error, WKP_MEDIA_ERROR, WKP_ERROR_INVALID,
                   "%s: an image sequence has no audio; give the audio file separately", path);
      return NULL;
    }
  fmt = open_input (path, error);
  if (fmt == NULL)
    return NULL;

  aidx = av_find_best_stream (fmt, AVMEDIA_TYPE_AUDIO, -1, -1, &codec, 0);
  if (aidx < 0)
    {
      if (aidx == AVERROR_DECODER_NOT_FOUND)
        g_set_error (error, WKP_MEDIA_ERROR, WKP_ERROR_UNSUPPORTED, "%s: no decoder for its audio stream", path);
      else
        g_set_error (error, WKP_MEDIA_ERROR, WKP_ERROR_NOT_FOUND,
                     "%s: has no audio stream (pair it with a separate audio file, e.g. --audio FILE.wav)", path);
      goto out;
    }
  for (unsigned i = 0; i < fmt->nb_streams; i++)
    if ((int) i != aidx)
      fmt->streams[i]->discard = AVDISCARD_ALL;

  dec = avcodec_alloc_context3 (codec);
  avcodec_parameters_to_context (dec, fmt->streams[aidx]->codecpar);
  dec->thread_count = 1;
  ret = avcodec_open2 (dec, codec, NULL);
  if (ret < 0)
    {
      set_av_error (error, WKP_ERROR_UNSUPPORTED, ret, path, "cannot open the audio decoder");
      goto out;
    }
  if (dec->ch_layout.nb_channels <= 0)
    av_channel_layout_default (&dec->ch_layout, 1);
  nch = dec->ch_layout.nb_channels;
  if (dec->sample_rate <= 0)
    {
      g_set_error (error, WKP_MEDIA_ERROR, WKP_ERROR_INVALID, "%s: audio stream has no sample rate", path);
      goto out;
    }
  /* a damaged header (e.g. 1 Hz) would be resampled to hours of audio */
  if (dec->sample_rate < WKP_AUDIO_MIN_RATE || dec->sample_rate > WKP_AUDIO_MAX_RATE)
    {
      g_set_error (error, WKP_MEDIA_ERROR, WKP_ERROR_INVALID,
                   "%s: audio sample rate %d Hz is implausible (%d..%d Hz): a damaged header?", path,
                   dec->sample_rate, WKP_AUDIO_MIN_RATE, WKP_AUDIO_MAX_RATE);
      goto out;
    }

  /* every channel resampled as it is (interleaved float); the mixer makes mono */
  ret = swr_alloc_set_opts2 (&swr, &dec->ch_layout, AV_SAMPLE_FMT_FLT, rate,
                             &dec->ch_layout, dec->sample_fmt, dec->sample_rate, 0, NULL);
  if (ret < 0)
    {
      set_av_error (error, WKP_ERROR_UNSUPPORTED, ret, path, "cannot set up audio conversion");
      goto out;
    }
  mixer_init (&mixer, nch, rate);
  /* A good band-limited resampler: Kaiser-windowed sinc. */
  av_opt_set_int (swr, "filter_size", 32, 0);
  av_opt_set_int (swr, "phase_shift", 10, 0);
  ret = swr_init (swr);
  if (ret < 0)
    {
      set_av_error (error, WKP_ERROR_UNSUPPORTED, ret, path, "cannot set up audio conversion");
      goto out;
    }

  pkt = av_packet_alloc ();
  frame = av_frame_alloc ();
  while ((ret = av_read_frame (fmt, pkt)) >= 0 || ret == AVERROR (EAGAIN))
    {
      if (ret < 0)
        continue;
      if (pkt->stream_index == aidx)
        {
          packets++;
          if (avcodec_send_packet (dec, pkt) < 0)
            decode_errors++;
          while (avcodec_receive_frame (dec, frame) >= 0)
            {
              n_decoded += frame->nb_samples;
              if (!convert_and_append (swr, frame, &mixer, &scratch, &buf))
                decode_errors++;
              av_frame_unref (frame);
            }
        }
      av_packet_unref (pkt);
      if (packets % 64 == 0 && wkp_check_cancelled (cancellable, error))
        goto out;
      if (buf.len + mixer.held.len / nch > (gint64) rate * WKP_AUDIO_MAX_SECONDS)
        {
          g_set_error (error, WKP_MEDIA_ERROR, WKP_ERROR_UNSUPPORTED, "%s: audio longer than %d hours",
                       path, WKP_AUDIO_MAX_SECONDS / 3600);
          goto out;
        }
    }
  avcodec_send_packet (dec, NULL);
  while (avcodec_receive_frame (dec, frame) >= 0)
    {
      n_decoded += frame->nb_samples;
      convert_and_append (swr, frame, &mixer, &scratch, &buf);
      av_frame_unref (frame);
    }
  convert_and_append (swr, NULL, &mixer, &scratch, &buf);   /* flush the resampler */
  if (!mixer.decided)
    mixer_decide (&mixer, &buf);

  if (packets == 0 && fmt->pb != NULL && avio_size (fmt->pb) > 0 && decode_errors > 0)
    {
      g_set_error (error, WKP_MEDIA_ERROR, WKP_ERROR_INVALID, "%s: audio stream could not be decoded", path);
      goto out;
    }
  if (packets > 0 && decode_errors == packets)
    {
      g_set_error (error, WKP_MEDIA_ERROR, WKP_ERROR_INVALID, "%s: audio stream is corrupt (no packet decoded)", path);
      goto out;
    }

  if (buf.len == 0 && n_decoded > 0 && n_decoded < dec->sample_rate)
    {
      /* (a few dozen samples that the resampler's filter kept) */
      g_set_error (error, WKP_MEDIA_ERROR, WKP_ERROR_INVALID,
                   "%s: the audio is too short to use: %" G_GINT64_FORMAT " samples at %d Hz (%.1f ms)", path, n_decoded,
                   dec->sample_rate, 1000.0 * (double) n_decoded / dec->sample_rate);
      goto out;
    }
  if (buf.len == 0)
    {
      g_set_error (error, WKP_MEDIA_ERROR, WKP_ERROR_INVALID, "%s: the audio stream has no samples", path);
      goto out;
    }
  /* A file cut short (a WAV whose header counts more data than there is, a
   * copy that stopped) decodes without an error: compare with the duration
   * its header or index declares, when that is exact (not guessed from the
   * bit rate), allowing for codec delay and padding. */
  {
    AVStream *st = fmt->streams[aidx];
    double declared = st->duration != AV_NOPTS_VALUE && st->duration > 0 ? st->duration * av_q2d (st->time_base) : 0;
    double decoded = (double) buf.len / rate;
    guint64 wav_bytes = 0, wav_present = 0;
    guint32 byte_rate = 0;
    if (strcmp (fmt->iformat->name, "wav") == 0)
      {
        /* only the header's own count, never FFmpeg's duration (made from the
         * same count, placeholder or not); more than 1 % (and 10 ms) missing */
        gboolean known = wav_declared (path, &wav_bytes, &wav_present, &byte_rate);
        declared = known ? (double) wav_bytes / byte_rate : 0;
        decoded = known ? (double) wav_present / byte_rate : decoded;
        if (!known || wav_present + MAX (wav_bytes / 100, byte_rate / 100) >= wav_bytes)
          declared = 0;
      }
    else if (fmt->duration_estimation_method != AVFMT_DURATION_FROM_STREAM
             || decoded >= 0.95 * declared - 0.2)
      declared = 0;   /* guessed from the bit rate, or near enough (codec delay and padding) */
    if (declared > 0)
      {
        g_set_error (error, WKP_MEDIA_ERROR, WKP_ERROR_INVALID,
                     "%s: file is truncated (its header declares %.2f s of audio, only %.2f s are present)", path,
                     declared, decoded);
        goto out;
      }
  }
  audio = g_new0 (WkpAudio, 1);
  audio->rate = rate;
  audio->n_samples = buf.len;
  audio->samples = buf.data ? buf.data : g_new0 (float, 1);
  audio->channels = nch;
  audio->source_rate = dec->sample_rate;
  audio->inverted_channels = mixer.inverted;
  audio->reference_channel = mixer.reference;
  buf.data = NULL;
  /* a float WAV may hold NaN or infinite samples: silence, so that no array
   * made from the audio (audio.npy, the envelope) is damaged by them */
  for (gint64 i = 0; i < audio->n_samples; i++)
    if (!isfinite (audio->samples[i]))
      audio->samples[i] = 0.0f;
  if (start_us != NULL)
    *start_us = ts_to_us (fmt->streams[aidx]->start_time, fmt->streams[aidx]->time_base);

out:
  g_free (buf.data);
  g_free (scratch.data);
  mixer_clear (&mixer);
  av_frame_free (&frame);
  av_packet_free (&pkt);
  swr_free (&swr);
  avcodec_free_context (&dec);
  avformat_close_input (&fmt);
  return audio;
}

char *
wkp_audio_rate_note (const WkpAudio *audio, const char *path)
{
  if (audio == NULL || audio->source_rate <= 0 || audio->source_rate >= WKP_AUDIO_RATE)
    return NULL;
  return g_strdup_printf ("%s: the sound is sampled at %d Hz, so it holds nothing above %d Hz; the features' bands "
                          "above that (up to 7600 Hz by default) read silence, and the keypoints differ from those of "
                          "a recording at 16 kHz or more", path, audio->source_rate, audio->source_rate / 2);
}

static char *
mix_note (const char *path, guint64 inverted, int channels, int reference)
{
  g_autoptr(GString) list = NULL;
  int n = 0;

  if (inverted == 0)
    return NULL;
  list = g_string_new (NULL);
  for (int c = 0; c < 64 && c < channels; c++)
    if (inverted & (G_GUINT64_CONSTANT (1) << c))
      g_string_append_printf (list, "%s%d", n++ > 0 ? ", " : "", c + 1);
  return g_strdup_printf ("%s: channel%s %s of %d %s in antiphase with channel %d%s (reversed polarity) and "
                          "%s inverted before mixing to mono; a plain average would have cancelled the speech",
                          path, n > 1 ? "s" : "", list->str, channels, n > 1 ? "are" : "is", reference + 1,
                          reference != 0 ? " (channel 1 is almost silent)" : "", n > 1 ? "were" : "was");
}

char *
wkp_audio_mix_note (const WkpAudio *audio, const char *path)
{
  return audio != NULL ? mix_note (path, audio->inverted_channels, audio->channels, audio->reference_channel) : NULL;
}

struct _WkpAudioMixer {
  Mixer    m;
  FloatBuf out;
};

WkpAudioMixer *
wkp_audio_mixer_new (int n_channels, int rate, double decide_seconds, double hold_seconds)
{
  WkpAudioMixer *mixer;
  g_return_val_if_fail (n_channels >= 1 && rate > 0, NULL);
  mixer = g_new0 (WkpAudioMixer, 1);
  mixer_init_for (&mixer->m, n_channels, rate, decide_seconds, hold_seconds);
  return mixer;
}

void
wkp_audio_mixer_free (WkpAudioMixer *mixer)
{
  if (mixer == NULL)
    return;
  mixer_clear (&mixer->m);
  g_free (mixer->out.data);
  g_free (mixer);
}

static void
mixer_give (WkpAudioMixer *mixer, GArray *out)
{
  g_array_append_vals (out, mixer->out.data, (guint) mixer->out.len);
  mixer->out.len = 0;
}

void
wkp_audio_mixer_push (WkpAudioMixer *mixer, const float *x, gint64 n, GArray *out)
{
  g_return_if_fail (mixer != NULL && out != NULL);
  if (n > 0)
    mixer_push (&mixer->m, x, n, &mixer->out);
  mixer_give (mixer, out);
}

void
wkp_audio_mixer_finish (WkpAudioMixer *mixer, GArray *out)
{
  g_return_if_fail (mixer != NULL && out != NULL);
  if (!mixer->m.decided)
    mixer_decide (&mixer->m, &mixer->out);
  mixer_give (mixer, out);
}

gboolean
wkp_audio_mixer_decided (const WkpAudioMixer *mixer)
{
  g_return_val_if_fail (mixer != NULL, TRUE);
  return mixer->m.decided;
}

char *
wkp_audio_mixer_note (const WkpAudioMixer *mixer, const char *name)
{
  g_return_val_if_fail (mixer != NULL, NULL);
  return mixer->m.decided ? mix_note (name, mixer->m.inverted, mixer->m.nch, mixer->m.reference) : NULL;
}

/* ------------------------------------------------------------------------ */
/* clip audio                                                                */

void
wkp_clip_audio_free (WkpClipAudio *clip)
{
  if (clip == NULL)
    return;
  wkp_media_info_free (clip->video_info);
  wkp_audio_free (clip->audio);
  g_free (clip->audio_source);
  g_free (clip);
}

/* Every track, sidecar and model of ours holds frame rates of 1 to 1000
 * fps: a video outside that range is refused when read (a 1200 fps clip gave
 * landmarks whose sidecar no command would read back). */
static gboolean
check_video_rate (const WkpMediaInfo *info, const char *path, GError **error)
{
  if (info->has_video && !wkp_rational_is_frame_rate (info->fps))
    {
      g_autofree char *rate = wkp_rational_to_string (info->fps);
      g_set_error (error, WKP_MEDIA_ERROR, WKP_ERROR_UNSUPPORTED,
                   "%s: its frame rate, %s fps, is outside the 1 to 1000 fps wav2kp works with", path, rate);
      return FALSE;
    }
  return TRUE;
}

WkpClipAudio *
wkp_clip_audio_load (const WkpSourceSpec *spec, int rate, GCancellable *cancellable, GError **error)
{
  g_autoptr(WkpClipAudio) clip = g_new0 (WkpClipAudio, 1);
  WkpRational fps = wkp_rational_is_valid (spec->fps) ? spec->fps : WKP_DEFAULT_FPS;
  gint64 audio_start = 0;

  g_return_val_if_fail (spec != NULL, NULL);

  if (spec->video == NULL && spec->audio == NULL)
    {
      g_set_error_literal (error, WKP_MEDIA_ERROR, WKP_ERROR_INVALID, "No input file given");
      return NULL;
    }

  if (spec->video != NULL)
    {
      /* (an image sequence without --fps: the rate its frames.json records) */
      clip->video_info = wkp_media_probe (spec->video, spec->fps, WKP_PROBE_COUNT_FRAMES, error);
      if (clip->video_info == NULL)
        return NULL;
      if (clip->video_info->has_video && clip->video_info->n_frames == 1 && !wkp_media_is_pattern (spec->video))
        {
          /* one image of a sequence: it would be a 1-frame clip, the rest of
           * the speech silently dropped (the studio opens the whole sequence) */
          g_autofree char *pattern = wkp_media_sequence_for_frame (spec->video);
          if (pattern != NULL)
            {
              g_set_error (error, WKP_MEDIA_ERROR, WKP_ERROR_INVALID,
                           "%s is one frame of the image sequence %s: give that pattern for the whole clip",
                           spec->video, pattern);
              return NULL;
            }
        }
      if (!clip->video_info->has_video)
        {
          /* an audio file given as the "video": treat as audio-only */
          if (spec->audio != NULL)
            {
              g_set_error (error, WKP_MEDIA_ERROR, WKP_ERROR_INVALID,
                           "%s: has no video stream, but a separate audio file was given", spec->video);
              return NULL;
            }
          g_clear_pointer (&clip->video_info, wkp_media_info_free);
        }
    }

  if (clip->video_info != NULL && !check_video_rate (clip->video_info, spec->video, error))
    return NULL;
  if (clip->video_info != NULL)
    {
      WkpMediaInfo *vi = clip->video_info;
      const char *audio_path = spec->audio ? spec->audio : spec->video;
      g_autofree char *companion = NULL;
      if (spec->audio == NULL && !vi->has_audio)
        {
          const char *hint = spec->audio_hint != NULL ? spec->audio_hint : "give its audio with --audio FILE";
          /* a silent video: its WAV where corpora keep it (clip.wav beside
           * it, or wav/clip.wav beside its folder), as prepare and the
           * studio pair them */
          companion = vi->is_image_sequence ? NULL : wkp_media_companion_wav (spec->video);
          if (companion == NULL && vi->is_image_sequence)
            {
              g_set_error (error, WKP_MEDIA_ERROR, WKP_ERROR_NOT_FOUND,
                           "%s: an image sequence has no audio; %s", spec->video, hint);
              return NULL;
            }
          if (companion == NULL)
            {
              g_set_error (error, WKP_MEDIA_ERROR, WKP_ERROR_NOT_FOUND,
                           "%s: video has no audio stream and no WAV of the same name beside it or in ../wav/; %s",
                           spec->video, hint);
              return NULL;
            }
          audio_path = companion;
          clip->companion = TRUE;
        }
      clip->audio = wkp_audio_load (audio_path, rate, &audio_start, cancellable, error);
      if (clip->audio == NULL)
        return NULL;
      clip->audio_source = g_strdup (audio_path);
      clip->fps = vi->fps;
      clip->n_frames = vi->n_frames;
      if (spec->audio == NULL && companion == NULL && !vi->is_image_sequence)
        {
          /* Same container: align audio to video frame 0 using the streams'
           * start times (positive: audio starts later -> pad with silence). */
          gint64 shift = wkp_us_to_sample (audio_start - vi->video_start_us, rate);
          if (shift != 0 && shift > -clip->audio->n_samples && shift < 10 * rate)
            {
              WkpAudio *a = clip->audio;
              gint64 n = a->n_samples + shift;
              float *s = g_new0 (float, MAX (n, 1));
              if (shift > 0)
                memcpy (s + shift, a->samples, a->n_samples * sizeof (float));
              else
                memcpy (s, a->samples - shift, n * sizeof (float));
              g_free (a->samples);
              a->samples = s;
              a->n_samples = n;
            }
        }
    }
  else
    {
      const char *audio_path = spec->audio ? spec->audio : spec->video;
      clip->audio = wkp_audio_load (audio_path, rate, NULL, cancellable, error);
      if (clip->audio == NULL)
        return NULL;
      clip->audio_source = g_strdup (audio_path);
      clip->fps = fps;
      clip->n_frames = wkp_frames_for_samples (clip->audio->n_samples, fps, rate);
    }
  return g_steal_pointer (&clip);
}

gboolean
wkp_clip_audio_set_fps (WkpClipAudio *clip, WkpRational fps)
{
  g_return_val_if_fail (clip != NULL && clip->audio != NULL, FALSE);
  if (clip->video_info != NULL || !wkp_rational_is_frame_rate (fps))
    return FALSE;
  clip->fps = fps;
  clip->n_frames = wkp_frames_for_samples (clip->audio->n_samples, fps, clip->audio->rate);
  return TRUE;
}

gboolean
wkp_clip_audio_fix_late (WkpClipAudio *clip, int frames, const char *name, GError **error)
{
  g_return_val_if_fail (clip != NULL && clip->audio != NULL, FALSE);
  if (frames == 0)
    return TRUE;
  if (clip->video_info == NULL || !clip->video_info->has_video)
    {
      g_set_error (error, WKP_MEDIA_ERROR, WKP_ERROR_INVALID,
                   "%s: no pictures to move the sound against (moving it by %d frame%s needs a video)", name, frames,
                   ABS (frames) == 1 ? "" : "s");
      return FALSE;
    }
  if ((gint64) frames >= clip->n_frames || (gint64) frames <= -clip->n_frames)   /* (no ABS: INT_MIN) */
    {
      g_set_error (error, WKP_MEDIA_ERROR, WKP_ERROR_INVALID,
                   "%s: cannot move the sound by %d frames: the clip has %" G_GINT64_FORMAT " frames", name, frames,
                   clip->n_frames);
      return FALSE;
    }
  wkp_audio_shift_frames (clip->audio, frames, clip->fps);
  clip->audio_late += frames;
  return TRUE;
}

/* The rate of a listening copy of audio at @source_rate Hz: the source's own
 * when AAC has it (16 to 48 kHz), else the next one up (48 kHz at most). */
static int
listening_rate (int source_rate)
{
  static const int aac[] = { 16000, 22050, 24000, 32000, 44100, 48000 };
  for (gsize i = 0; i < G_N_ELEMENTS (aac); i++)
    if (source_rate <= aac[i])
      return aac[i];
  return 48000;
}

WkpAudio *
wkp_clip_audio_load_for_listening (const WkpSourceSpec *spec, gint64 n_frames, GCancellable *cancellable,
                                   GError **error)
{
  g_autoptr(WkpClipAudio) clip = NULL;
  g_autoptr(WkpMediaInfo) info = NULL;
  const char *audio_path;
  WkpAudio *audio;

  g_return_val_if_fail (spec != NULL, NULL);
  audio_path = spec->audio != NULL ? spec->audio : spec->video;
  if (audio_path == NULL || wkp_media_is_pattern (audio_path))
    {
      g_set_error (error, WKP_MEDIA_ERROR, WKP_ERROR_INVALID, "%s: no audio to listen to",
                   audio_path != NULL ? audio_path : "(no file)");
      return NULL;
    }
  info = wkp_media_probe (audio_path, wkp_rational_is_valid (spec->fps) ? spec->fps : WKP_DEFAULT_FPS,
                          WKP_PROBE_DEFAULT, error);
  if (info == NULL)
    return NULL;
  if (spec->audio == NULL && info->has_video && !info->has_audio)
    {
      /* a silent video's sound is its companion WAV's (as wkp_clip_audio_load reads it) */
      g_autofree char *companion = wkp_media_companion_wav (spec->video);
      if (companion != NULL)
        {
          g_clear_pointer (&info, wkp_media_info_free);
          info = wkp_media_probe (companion, WKP_DEFAULT_FPS, WKP_PROBE_DEFAULT, error);
          if (info == NULL)
            return NULL;
        }
    }
  clip = wkp_clip_audio_load (spec, listening_rate (info->sample_rate), cancellable, error);
  if (clip == NULL)
    return NULL;
  if (n_frames > 0 && clip->n_frames != n_frames)
    {
      g_set_error (error, WKP_MEDIA_ERROR, WKP_ERROR_MISMATCH,
                   "%s: %" G_GINT64_FORMAT " frames on a second reading, %" G_GINT64_FORMAT " on the first: "
                   "did the file change?", spec->video != NULL ? spec->video : audio_path, clip->n_frames, n_frames);
      return NULL;
    }
  audio = g_steal_pointer (&clip->audio);
  return audio;
}

/* ------------------------------------------------------------------------ */
/* video reader                                                              */

struct _WkpVideoReader {
  char              *path;
  WkpMediaInfo      *info;
  WkpPixelFormat     format;
  /* file mode */
  AVFormatContext   *fmt;
  AVCodecContext    *dec;
  int                vidx;
  AVPacket          *pkt;
  AVFrame           *frame;
  gboolean           draining;
  gboolean           eof;
  gint64             first_pts;
  AVFrame           *pending;      /* after a seek: the frame the next call returns */
  gint64             pending_index;
  /* file mode, irregular timing (info->resampled): frames on the grid */
  gboolean           resample;
  AVFrame           *cur;          /* the picture of the last frame returned (or, after a
                                    * seek, of the next one) */
  gboolean           cur_valid, cur_converted;
  AVFrame           *ahead;        /* the next decoded picture and its grid frame */
  gboolean           ahead_valid;
  gint64             ahead_slot;
  /* sequence mode */
  Sequence           seq;
  /* output */
  struct SwsContext *sws;
  guint8            *pixels;
  int                stride;
  int                out_w, out_h;
  gint64             next_index;
};

const WkpMediaInfo *
wkp_video_reader_get_info (WkpVideoReader *reader)
{
  return reader->info;
}

void
wkp_video_reader_free (WkpVideoReader *reader)
{
  if (reader == NULL)
    return;
  g_free (reader->path);
  wkp_media_info_free (reader->info);
  av_packet_free (&reader->pkt);
  av_frame_free (&reader->frame);
  av_frame_free (&reader->pending);
  av_frame_free (&reader->cur);
  av_frame_free (&reader->ahead);
  avcodec_free_context (&reader->dec);
  avformat_close_input (&reader->fmt);
  sws_freeContext (reader->sws);
  g_free (reader->pixels);
  g_free (reader);
}

static gboolean
open_decoder (AVFormatContext *fmt, int vidx, AVCodecContext **out, const char *path, GError **error)
{
  const AVCodec *codec = avcodec_find_decoder (fmt->streams[vidx]->codecpar->codec_id);
  AVCodecContext *dec;
  int ret;
  if (codec == NULL)
    {
      g_set_error (error, WKP_MEDIA_ERROR, WKP_ERROR_UNSUPPORTED, "%s: no decoder for its video codec", path);
      return FALSE;
    }
  dec = avcodec_alloc_context3 (codec);
  avcodec_parameters_to_context (dec, fmt->streams[vidx]->codecpar);
  dec->thread_count = 1;
  ret = avcodec_open2 (dec, codec, NULL);
  if (ret < 0)
    {
      avcodec_free_context (&dec);
      set_av_error (error, WKP_ERROR_UNSUPPORTED, ret, path, "cannot open the video decoder");
      return FALSE;
    }
  *out = dec;
  return TRUE;
}

WkpVideoReader *
wkp_video_reader_open (const char *path, WkpRational fps, WkpPixelFormat format, GError **error)
{
  g_autoptr(WkpVideoReader) r = g_new0 (WkpVideoReader, 1);

  r->path = g_strdup (path);
  r->format = format;
  r->first_pts = AV_NOPTS_VALUE;
  r->frame = av_frame_alloc ();
  r->pkt = av_packet_alloc ();
  /* counted (one pass over the packets, no decoding: 0.1 s for a minute
   * of 720p): the exact frame count, a file cut short, and the timing */
  r->info = wkp_media_probe (path, fps, WKP_PROBE_COUNT_FRAMES, error);
  if (r->info == NULL)
    return NULL;
  if (!r->info->has_video)
    {
      g_set_error (error, WKP_MEDIA_ERROR, WKP_ERROR_NOT_FOUND, "%s: has no video stream", path);
      return NULL;
    }
  r->resample = r->info->resampled;
  if (r->resample)
    r->first_pts = r->info->video_first_pts;   /* the probe's grid, from the earliest picture */
  r->cur = av_frame_alloc ();
  r->ahead = av_frame_alloc ();
  if (!check_video_rate (r->info, path, error))
    return NULL;
  if (r->info->is_image_sequence)
    {
      if (!sequence_scan (path, &r->seq, error))
        return NULL;
      return g_steal_pointer (&r);
    }
  r->fmt = open_input (path, error);
  if (r->fmt == NULL)
    return NULL;
  r->vidx = find_video_stream (r->fmt);
  for (unsigned i = 0; i < r->fmt->nb_streams; i++)
    if ((int) i != r->vidx)
      r->fmt->streams[i]->discard = AVDISCARD_ALL;
  if (!open_decoder (r->fmt, r->vidx, &r->dec, path, error))
    return NULL;
  return g_steal_pointer (&r);
}

static gboolean
to_output (WkpVideoReader *r, AVFrame *f, WkpFrame *out, GError **error)
{
  enum AVPixelFormat dst = r->format == WKP_PIXEL_GRAY8 ? AV_PIX_FMT_GRAY8 : AV_PIX_FMT_RGB24;
  int bpp = r->format == WKP_PIXEL_GRAY8 ? 1 : 3;
  guint8 *dst_planes[4];
  int dst_stride[4];

  if (f->width <= 0 || f->height <= 0)
    {
      g_set_error (error, WKP_MEDIA_ERROR, WKP_ERROR_INVALID, "%s: decoded a frame of no size", r->path);
      return FALSE;
    }
  if (r->pixels == NULL || r->out_w != f->width || r->out_h != f->height)
    {
      g_free (r->pixels);
      r->out_w = f->width;
      r->out_h = f->height;
      /* swscale's SIMD paths store whole vectors past the end of a row:
       * 64-byte aligned rows and one spare row keep them inside the buffer */
      r->stride = (f->width * bpp + 63) & ~63;
      r->pixels = g_malloc ((gsize) r->stride * (f->height + 1));
    }
  r->sws = sws_getCachedContext (r->sws, f->width, f->height, f->format, f->width, f->height, dst,
                                 SWS_BILINEAR, NULL, NULL, NULL);
  if (r->sws == NULL)
    {
      g_set_error (error, WKP_MEDIA_ERROR, WKP_ERROR_UNSUPPORTED, "%s: cannot convert its pixel format", r->path);
      return FALSE;
    }
  dst_planes[0] = r->pixels;
  dst_planes[1] = dst_planes[2] = dst_planes[3] = NULL;
  dst_stride[0] = r->stride;
  dst_stride[1] = dst_stride[2] = dst_stride[3] = 0;
  sws_scale (r->sws, (const uint8_t *const *) f->data, f->linesize, 0, f->height, dst_planes, dst_stride);

  out->data = r->pixels;
  out->width = r->out_w;
  out->height = r->out_h;
  out->stride = r->stride;
  return TRUE;
}

static gboolean
next_sequence (WkpVideoReader *r, WkpFrame *out, GError **error)
{
  g_autofree char *file = NULL;
  AVFormatContext *fmt;
  AVCodecContext *dec = NULL;
  AVPacket *pkt;
  gboolean ok = FALSE;
  int vidx;

  if (r->next_index >= r->seq.count)
    return FALSE;
  file = pattern_path (r->path, r->seq.first + r->next_index);
  fmt = open_input (file, error);
  if (fmt == NULL)
    return FALSE;
  vidx = find_video_stream (fmt);
  if (vidx < 0)
    {
      g_set_error (error, WKP_MEDIA_ERROR, WKP_ERROR_INVALID, "%s: not a picture", file);
      avformat_close_input (&fmt);
      return FALSE;
    }
  if (!open_decoder (fmt, vidx, &dec, file, error))
    {
      avformat_close_input (&fmt);
      return FALSE;
    }
  pkt = av_packet_alloc ();
  while (av_read_frame (fmt, pkt) >= 0)
    {
      if (pkt->stream_index == vidx && avcodec_send_packet (dec, pkt) >= 0 &&
          avcodec_receive_frame (dec, r->frame) >= 0)
        {
          av_packet_unref (pkt);
          ok = TRUE;
          break;
        }
      av_packet_unref (pkt);
    }
  if (!ok)
    {
      avcodec_send_packet (dec, NULL);
      ok = avcodec_receive_frame (dec, r->frame) >= 0;
    }
  av_packet_free (&pkt);
  if (!ok)
    g_set_error (error, WKP_MEDIA_ERROR, WKP_ERROR_INVALID, "%s: cannot decode this image", file);
  else
    ok = to_output (r, r->frame, out, error);
  av_frame_unref (r->frame);
  avcodec_free_context (&dec);
  avformat_close_input (&fmt);
  if (ok)
    {
      out->index = r->next_index++;
      out->time_us = wkp_frame_to_us (out->index, r->info->fps);
      out->pts_us = out->time_us;
    }
  return ok;
}

/* Pulls the next decoded picture from the file; FALSE at the end. */
static gboolean
decode_next (WkpVideoReader *r, GError **error)
{
  int ret;
  for (;;)
    {
      ret = avcodec_receive_frame (r->dec, r->frame);
      if (ret >= 0)
        return TRUE;
      if (ret == AVERROR_EOF)
        return FALSE;
      if (ret != AVERROR (EAGAIN))
        {
          set_av_error (error, WKP_ERROR_INVALID, ret, r->path, "video decoding failed");
          return FALSE;
        }
      if (r->draining)
        return FALSE;
      for (;;)
        {
          ret = av_read_frame (r->fmt, r->pkt);
          if (ret < 0)
            {
              r->draining = TRUE;
              avcodec_send_packet (r->dec, NULL);
              break;
            }
          if (r->pkt->stream_index == r->vidx)
            {
              /* a corrupt packet is skipped; the stream goes on */
              avcodec_send_packet (r->dec, r->pkt);
              av_packet_unref (r->pkt);
              break;
            }
          av_packet_unref (r->pkt);
        }
    }
}

/* Index of the decoded frame from its timestamp (nearest frame start). */
static gint64
frame_index_from_pts (WkpVideoReader *r, gint64 pts)
{
  AVStream *st = r->fmt->streams[r->vidx];
  gint64 rel;
  if (pts == AV_NOPTS_VALUE || r->first_pts == AV_NOPTS_VALUE)
    return -1;
  rel = pts - r->first_pts;
  return grid_slot (rel, st->time_base, r->info->fps);
}

/* Resampling: decodes the picture after r->ahead into r->ahead (its grid
 * frame in ahead_slot; a picture without a timestamp takes the next frame);
 * ahead_valid FALSE at the end. */
static gboolean
resample_pull (WkpVideoReader *r, GError **error)
{
  gint64 prev = r->ahead_valid ? r->ahead_slot : -1, slot;
  av_frame_unref (r->ahead);
  r->ahead_valid = FALSE;
  if (!decode_next (r, error))
    return error == NULL || *error == NULL;
  if (r->first_pts == AV_NOPTS_VALUE)
    r->first_pts = r->frame->best_effort_timestamp;
  slot = frame_index_from_pts (r, r->frame->best_effort_timestamp);
  av_frame_move_ref (r->ahead, r->frame);
  r->ahead_slot = slot < 0 ? prev + 1 : slot;
  r->ahead_valid = TRUE;
  return TRUE;
}

/* Resampling: frame r->next_index is the last picture whose grid frame is
 * at or before it; past the last picture, the last picture again, up to
 * the counted n_frames. */
static gboolean
next_resampled (WkpVideoReader *r, WkpFrame *out, GError **error)
{
  AVStream *st = r->fmt->streams[r->vidx];
  gint64 k = r->next_index, pts;
  if (k >= r->info->n_frames)
    return FALSE;
  if (!r->cur_valid && !r->ahead_valid && !resample_pull (r, error))
    return FALSE;
  while (r->ahead_valid && (r->ahead_slot <= k || !r->cur_valid))
    {
      av_frame_unref (r->cur);
      av_frame_move_ref (r->cur, r->ahead);
      r->cur_valid = TRUE;
      r->cur_converted = FALSE;
      if (!resample_pull (r, error))
        return FALSE;
    }
  if (!r->cur_valid)
    return FALSE;
  if (!r->cur_converted)
    {
      if (!to_output (r, r->cur, out, error))
        return FALSE;
      r->cur_converted = TRUE;
    }
  out->data = r->pixels;
  out->width = r->out_w;
  out->height = r->out_h;
  out->stride = r->stride;
  out->index = k;
  out->time_us = wkp_frame_to_us (k, r->info->fps);
  pts = r->cur->best_effort_timestamp;
  out->pts_us = (pts == AV_NOPTS_VALUE || r->first_pts == AV_NOPTS_VALUE) ? -1
                : ts_to_us (pts - r->first_pts, st->time_base);
  r->next_index = k + 1;
  return TRUE;
}

static gboolean
emit (WkpVideoReader *r, AVFrame *f, gint64 index, WkpFrame *out, GError **error)
{
  AVStream *st = r->fmt->streams[r->vidx];
  gint64 pts = f->best_effort_timestamp;
  gboolean ok = to_output (r, f, out, error);
  if (ok)
    {
      out->index = index;
      out->time_us = wkp_frame_to_us (index, r->info->fps);
      out->pts_us = (pts == AV_NOPTS_VALUE || r->first_pts == AV_NOPTS_VALUE) ? -1
                    : ts_to_us (pts - r->first_pts, st->time_base);
      r->next_index = index + 1;
    }
  av_frame_unref (f);
  return ok;
}

gboolean
wkp_video_reader_next (WkpVideoReader *r, WkpFrame *out, GError **error)
{
  gint64 pts;

  g_return_val_if_fail (r != NULL && out != NULL, FALSE);

  if (r->info->is_image_sequence)
    return next_sequence (r, out, error);
  if (r->resample)
    return next_resampled (r, out, error);

  if (r->pending != NULL && r->pending->buf[0] != NULL)
    return emit (r, r->pending, r->pending_index, out, error);

  if (!decode_next (r, error))
    return FALSE;
  pts = r->frame->best_effort_timestamp;
  if (r->first_pts == AV_NOPTS_VALUE && r->next_index == 0)
    r->first_pts = pts;
  return emit (r, r->frame, r->next_index, out, error);
}

/* Seeks the demuxer to @back_us before frame @index's time (or to the very
 * start when @back_us < 0) and flushes the decoder. */
static gboolean
demux_seek (WkpVideoReader *r, gint64 index, gint64 back_us, GError **error)
{
  AVStream *st = r->fmt->streams[r->vidx];
  int ret;
  if (back_us < 0)
    {
      ret = avformat_seek_file (r->fmt, -1, G_MININT64, G_MININT64, G_MININT64, 0);
      if (ret < 0)
        ret = av_seek_frame (r->fmt, -1, 0, AVSEEK_FLAG_BYTE | AVSEEK_FLAG_BACKWARD);
    }
  else
    {
      gint64 t_us = MAX (wkp_frame_to_us (index, r->info->fps) - back_us, 0);
      gint64 target = r->first_pts + av_rescale_q (t_us, AV_TIME_BASE_Q, st->time_base);
      ret = avformat_seek_file (r->fmt, r->vidx, G_MININT64, target, target, 0);
      if (ret < 0)
        ret = av_seek_frame (r->fmt, r->vidx, target, AVSEEK_FLAG_BACKWARD);
    }
  if (ret < 0)
    {
      set_av_error (error, WKP_ERROR_UNSUPPORTED, ret, r->path, "cannot seek");
      return FALSE;
    }
  avcodec_flush_buffers (r->dec);
  r->draining = FALSE;
  return TRUE;
}

/* Resampling: the seek of wkp_video_reader_seek on the grid. */
static gboolean
seek_resampled (WkpVideoReader *r, gint64 index, const gint64 *backoff_us, guint n_backoff, GError **error)
{
  if (index >= r->info->n_frames)
    {
      r->next_index = index;   /* the next call returns FALSE */
      return TRUE;
    }
  for (guint attempt = 0; attempt < n_backoff; attempt++)
    {
      /* the first timestamp comes from the very start */
      gint64 back = r->first_pts == AV_NOPTS_VALUE ? -1 : backoff_us[attempt];
      if (!demux_seek (r, index, back, error))
        return FALSE;
      av_frame_unref (r->cur);
      av_frame_unref (r->ahead);
      r->cur_valid = r->ahead_valid = r->cur_converted = FALSE;
      if (!resample_pull (r, error))
        return FALSE;
      /* the demuxer landed after the target, or at the end: further back */
      if (back >= 0 && (!r->ahead_valid || r->ahead_slot > index))
        continue;
      while (r->ahead_valid && (r->ahead_slot <= index || !r->cur_valid))
        {
          av_frame_unref (r->cur);
          av_frame_move_ref (r->cur, r->ahead);
          r->cur_valid = TRUE;
          if (!resample_pull (r, error))
            return FALSE;
        }
      if (!r->cur_valid)
        break;
      r->next_index = index;
      return TRUE;
    }
  g_set_error (error, WKP_MEDIA_ERROR, WKP_ERROR_UNSUPPORTED, "%s: cannot seek to frame %" G_GINT64_FORMAT,
               r->path, index);
  return FALSE;
}

gboolean
wkp_video_reader_seek (WkpVideoReader *r, gint64 index, GError **error)
{
  /* seek a little before the target, decode forward; if the demuxer lands
   * after the target (keyframe search in MPEG-PS can), go further back */
  static const gint64 backoff_us[] = { 0, 1000000, 4000000, 16000000, -1 };

  g_return_val_if_fail (r != NULL, FALSE);
  if (index < 0)
    index = 0;
  if (r->info->is_image_sequence)
    {
      r->next_index = MIN (index, r->seq.count);
      return TRUE;
    }
  if (r->resample)
    return seek_resampled (r, index, backoff_us, G_N_ELEMENTS (backoff_us), error);
  if (r->pending == NULL)
    r->pending = av_frame_alloc ();
  av_frame_unref (r->pending);

  if (r->first_pts == AV_NOPTS_VALUE)
    {
      /* learn the first timestamp by decoding frame 0 from the start */
      WkpFrame f;
      if (!demux_seek (r, 0, -1, error))
        return FALSE;
      r->next_index = 0;
      if (!wkp_video_reader_next (r, &f, error))
        return error == NULL || *error == NULL;
    }

  for (guint attempt = 0; attempt < G_N_ELEMENTS (backoff_us); attempt++)
    {
      gboolean overshoot = FALSE, seen_before = FALSE;
      gint64 sequential = 0;   /* used after a seek to the very start */

      if (!demux_seek (r, index, backoff_us[attempt], error))
        return FALSE;
      for (;;)
        {
          gint64 idx;
          g_autoptr(GError) local = NULL;
          if (!decode_next (r, &local))
            {
              if (local != NULL)
                {
                  g_propagate_error (error, g_steal_pointer (&local));
                  return FALSE;
                }
              /* the end of the stream before any frame: the demuxer may
               * have landed past the target (MPEG-PS files whose pack clock
               * jumps land at the end): go further back; after frames
               * before the target, or from the start, the target is past
               * the end and the next call returns FALSE */
              if (!seen_before && backoff_us[attempt] >= 0)
                {
                  overshoot = TRUE;
                  break;
                }
              r->next_index = index;
              return TRUE;
            }
          idx = backoff_us[attempt] < 0 ? sequential++ : frame_index_from_pts (r, r->frame->best_effort_timestamp);
          if (idx < 0)
            idx = sequential++;
          if (idx > index && !seen_before)
            {
              av_frame_unref (r->frame);
              overshoot = TRUE;
              break;
            }
          if (idx >= index)
            {
              /* the target, or the first frame after a gap in the stream */
              av_frame_move_ref (r->pending, r->frame);
              r->pending_index = idx;
              r->next_index = idx;
              return TRUE;
            }
          seen_before = TRUE;
          av_frame_unref (r->frame);
        }
      if (!overshoot)
        break;
    }
  g_set_error (error, WKP_MEDIA_ERROR, WKP_ERROR_UNSUPPORTED, "%s: cannot seek to frame %" G_GINT64_FORMAT,
               r->path, index);
  return FALSE;
}

char *
wkp_media_display_name (const char *video, const char *audio)
{
  const char *p = video != NULL ? video : audio;
  if (p == NULL)
    return g_strdup ("");
  if (video != NULL && wkp_media_is_pattern (video))
    {
      /* an image sequence is named by its folder and the two above it: the
       * folder alone is often a take shared by many speakers ("sa1" for
       * VidTIMIT/fadg0/video/sa1/%03d gives "fadg0/video/sa1") */
      g_autofree char *dir = g_path_get_dirname (video);
      g_autofree char *abs = g_canonicalize_filename (dir, NULL);
      g_auto(GStrv) parts = g_strsplit (abs, G_DIR_SEPARATOR_S, -1);
      GPtrArray *kept = g_ptr_array_new ();
      guint n = g_strv_length (parts);
      char *title;

      for (guint i = n; i > 0 && kept->len < 3; i--)
        if (parts[i - 1][0] != '\0')
          g_ptr_array_insert (kept, 0, parts[i - 1]);
      if (kept->len == 0)   /* frames in the root folder */
        {
          g_ptr_array_free (kept, TRUE);
          return g_path_get_basename (video);
        }
      g_ptr_array_add (kept, NULL);
      title = g_strjoinv ("/", (char **) kept->pdata);
      g_ptr_array_free (kept, TRUE);
      return title;
    }
  return g_path_get_basename (p);
}
