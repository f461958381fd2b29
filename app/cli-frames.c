/* wav2kp frames VIDEO -o DIR [--crop SIZE [--landmarks TRACK]] [--start F] [--count N] [--fps R]
 *
 * A video as one PNG per frame, DIR/000001.png, 000002.png ... (RGB, full
 * size; file k is video frame k - 1, as ffmpeg's %06d numbers them), or with
 * --crop SIZE as face-aligned SIZE x SIZE crops: the similarity that puts the
 * frame's landmarks on the canonical mean face (wkp_face_normalize, the one
 * the dataset normalises its tracks with), scaled into the crop. Landmarks
 * come from --landmarks TRACK or are extracted here (dlib, `wav2kp
 * landmarks`' defaults). Frames without a face get no crop; frames.json lists
 * them, and records the source, frame rate, sizes and, for crops, each
 * frame's 2x3 affine matrix (source pixel -> crop pixel, pixel centres at
 * integer coordinates as in the landmark files) or null.
 *
 * The folder appears whole or not at all: everything is written into a
 * temporary sibling ".DIR.XXXXXX.part" that is renamed to DIR at the end. DIR
 * may not exist yet or be an empty folder (replaced by the rename); a folder
 * with anything in it is refused, never merged into or overwritten. */
#include "wkp-cli.h"
#include "wkp-config.h"
#include "wkp-face.h"
#include "wkp-io.h"
#include "wkp-landmarks.h"
#include "wkp-media.h"

#include <cairo.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define MIN_CROP 16
#define MAX_CROP 4096
#define MAX_FILE_NUMBER 999999   /* 000001.png .. 999999.png: 9 h at 30 fps */

/* The crop's layout in canonical face units (inter-ocular distance 1, origin
 * between the outer eye corners, y down): the crop is CROP_SPAN units wide,
 * and the canonical point (0, CROP_CENTRE_Y), the middle of the mean face's
 * brow-to-chin box (-0.27 .. 1.32), sits at the crop's centre. The mean face
 * (jaw 1.64 wide) then fills two thirds of the width, with about half an
 * inter-ocular distance of forehead above the brows and of neck below the
 * chin; the eyes are level by construction. */
#define CROP_SPAN 2.5
#define CROP_CENTRE_Y 0.5

/* --- the temporary folder, removed when the run fails or is killed ---------- */

/* Registered with the engine's signal handlers (wkp_io_register_temp_dir),
 * which remove it, files and all, when Ctrl+C, SIGTERM or SIGHUP kill the run. */
static char tmp_dir[4096];
static gboolean tmp_active;

/* "DIR/NNNNNN.png" into @buf */
static void
frame_file_name (char *buf, gsize size, const char *dir, long number)
{
  g_snprintf (buf, size, "%s/%06ld.png", dir, number);
}

static void
remove_tmp_dir (void)
{
  if (!tmp_active)
    return;
  wkp_io_unregister_temp_dir (tmp_dir);
  wkp_io_remove_flat_dir (tmp_dir);
  tmp_active = FALSE;
}

/* --- pictures ------------------------------------------------------------------ */

static cairo_status_t
append_bytes (void *closure, const unsigned char *data, unsigned int length)
{
  g_byte_array_append (closure, data, length);
  return CAIRO_STATUS_SUCCESS;
}

/* Writes @surface (RGB24: the PNG is 8-bit RGB) to @path in the temporary folder. */
static gboolean
write_png (cairo_surface_t *surface, const char *path, GError **error)
{
  g_autoptr(GByteArray) png = g_byte_array_new ();
  g_autoptr(GError) local = NULL;
  cairo_status_t st;

  cairo_surface_flush (surface);
  st = cairo_surface_write_to_png_stream (surface, append_bytes, png);
  if (st != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, WKP_IO_ERROR, WKP_ERROR_IO, "Cannot write %s: %s", path, cairo_status_to_string (st));
      return FALSE;
    }
  if (!g_file_set_contents_full (path, (const char *) png->data, png->len, G_FILE_SET_CONTENTS_NONE, 0644, &local))
    {
      g_set_error (error, WKP_IO_ERROR, WKP_ERROR_IO, "%s", local->message);
      return FALSE;
    }
  return TRUE;
}

static void
copy_frame (const WkpFrame *fr, cairo_surface_t *surface)
{
  guint8 *dst = cairo_image_surface_get_data (surface);
  int stride = cairo_image_surface_get_stride (surface);
  for (int y = 0; y < fr->height; y++)
    {
      const guint8 *s = fr->data + (gsize) y * fr->stride;
      guint32 *d = (guint32 *) (dst + (gsize) y * stride);
      for (int x = 0; x < fr->width; x++, s += 3)
        d[x] = 0xff000000u | ((guint32) s[0] << 16) | ((guint32) s[1] << 8) | s[2];
    }
  cairo_surface_mark_dirty (surface);
}

/* Crop pixel (u, v) is the source sampled at @inv (u, v), pixel centres at
 * integer coordinates, bilinearly; samples outside the frame are black.
 *
 * Hand-written rather than cairo's pattern filters: pixman's bilinear filter
 * puts pixel centres at +0.5 and quantises the weights to 7 bits, and
 * CAIRO_FILTER_GOOD switches to a box prefilter when it shrinks, so neither is
 * the exact, documented sample that frames.json's matrix promises (and the
 * tests check with numpy). This is what OpenCV's warpAffine does with
 * INTER_LINEAR and a black border, the usual crop of face-alignment training
 * pipelines. Faces shrunk by more than 2x alias a little, as they do there. */
static void
warp_bilinear (const WkpFrame *fr, const WkpSimilarity *inv, cairo_surface_t *surface, int size)
{
  guint8 *dst = cairo_image_surface_get_data (surface);
  int stride = cairo_image_surface_get_stride (surface);
  for (int v = 0; v < size; v++)
    {
      guint32 *d = (guint32 *) (dst + (gsize) v * stride);
      for (int u = 0; u < size; u++)
        {
          double x = inv->a * u - inv->b * v + inv->tx;
          double y = inv->b * u + inv->a * v + inv->ty;
          double x0 = floor (x), y0 = floor (y), fx = x - x0, fy = y - y0;
          double w[4] = { (1 - fx) * (1 - fy), fx * (1 - fy), (1 - fx) * fy, fx * fy };
          double acc[3] = { 0, 0, 0 };
          guint32 px = 0xff000000u;
          for (int k = 0; k < 4; k++)
            {
              double xs = x0 + (k & 1), ys = y0 + (k >> 1);
              const guint8 *s;
              if (w[k] == 0 || xs < 0 || ys < 0 || xs >= fr->width || ys >= fr->height)
                continue;
              s = fr->data + (gsize) ys * fr->stride + (gsize) xs * 3;
              acc[0] += w[k] * s[0], acc[1] += w[k] * s[1], acc[2] += w[k] * s[2];
            }
          for (int c = 0; c < 3; c++)
            px |= (guint32) CLAMP ((int) (acc[c] + 0.5), 0, 255) << (8 * (2 - c));
          d[u] = px;
        }
    }
  cairo_surface_mark_dirty (surface);
}

/* source pixel -> crop pixel for the face @pts (68 points, pixels); FALSE
 * when the frame has no usable face */
static gboolean
crop_transform (const float *pts, int size, WkpSimilarity *out)
{
  float canonical[WKP_N_LANDMARKS * 2];
  WkpSimilarity t;
  double s = size / CROP_SPAN, c = (size - 1) / 2.0;

  for (int k = 0; k < WKP_N_LANDMARKS * 2; k++)
    if (!isfinite (pts[k]))
      return FALSE;
  if (!wkp_face_normalize (pts, canonical, &t, NULL))
    return FALSE;
  out->a = s * t.a;
  out->b = s * t.b;
  out->tx = s * t.tx + c;
  out->ty = s * (t.ty - CROP_CENTRE_Y) + c;
  return TRUE;
}

/* --- the output folder --------------------------------------------------------- */

/* DIR may be created (missing) or replaced (an empty folder); anything else is refused */
static gboolean
check_output_dir (const char *dir, GError **error)
{
  g_autofree char *parent = g_path_get_dirname (dir);
  g_autofree char *base = g_path_get_basename (dir);
  /* the final rename cannot replace these: refused before any frame is written */
  if (g_str_equal (base, ".") || g_str_equal (base, "..") || g_str_equal (base, "/"))
    {
      g_set_error (error, WKP_IO_ERROR, WKP_ERROR_INVALID, "%s: give a folder by name (frames makes or replaces it)",
                   dir);
      return FALSE;
    }
  if (g_file_test (dir, G_FILE_TEST_IS_SYMLINK))
    {
      g_set_error (error, WKP_IO_ERROR, WKP_ERROR_INVALID,
                   "%s: is a symbolic link; give the folder it points to, or a new name", dir);
      return FALSE;
    }
  if (g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
      if (d == NULL || g_dir_read_name (d) != NULL)
        {
          g_set_error (error, WKP_IO_ERROR, WKP_ERROR_INVALID,
                       "%s: the folder is not empty; frames writes into a new or empty folder only "
                       "(choose another or remove it)", dir);
          return FALSE;
        }
    }
  else if (g_file_test (dir, G_FILE_TEST_EXISTS) || g_file_test (dir, G_FILE_TEST_IS_SYMLINK))
    {
      g_set_error (error, WKP_IO_ERROR, WKP_ERROR_INVALID, "%s: exists and is not a folder", dir);
      return FALSE;
    }
  if (!g_file_test (parent, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, WKP_IO_ERROR, WKP_ERROR_NOT_FOUND, "Cannot write %s: folder %s does not exist", dir, parent);
      return FALSE;
    }
  return TRUE;
}

static gboolean
make_tmp_dir (const char *dir, GError **error)
{
  g_autofree char *parent = g_path_get_dirname (dir);
  g_autofree char *base = g_path_get_basename (dir);
  g_autofree char *templ = g_strdup_printf ("%s/.%s.XXXXXX.part", parent, base);
  if (strlen (templ) + 16 >= sizeof tmp_dir)
    {
      g_set_error (error, WKP_IO_ERROR, WKP_ERROR_INVALID, "Cannot write %s: the path is too long", dir);
      return FALSE;
    }
  {
    /* (registered for the signal handlers before it exists) */
    g_autoptr(GError) local = NULL;
    g_autofree char *made = wkp_io_make_temp_dir (templ, 0755, &local);
    if (made == NULL)
      {
        g_set_error (error, WKP_IO_ERROR, WKP_ERROR_IO, "Cannot write %s: %s", dir, local->message);
        return FALSE;
      }
    strcpy (tmp_dir, made);
  }
  tmp_active = TRUE;
  return TRUE;
}

/* a failure in the middle: say it, leave nothing behind */
static int
fail_cleanly (GError *error)
{
  remove_tmp_dir ();
  return wkp_cli_fail ("frames", error);
}

static void
add_matrix (JsonBuilder *b, const WkpSimilarity *m)
{
  const double rows[2][3] = { { m->a, -m->b, m->tx }, { m->b, m->a, m->ty } };
  json_builder_begin_array (b);
  for (int r = 0; r < 2; r++)
    {
      json_builder_begin_array (b);
      for (int c = 0; c < 3; c++)
        json_builder_add_double_value (b, rows[r][c]);
      json_builder_end_array (b);
    }
  json_builder_end_array (b);
}

int
wkp_cli_frames (int argc, char **argv)
{
  g_autofree char *output = NULL, *fps_text = NULL, *landmarks = NULL;
  g_auto(GStrv) files = NULL;
  gint64 start = 0, count = -1;
  int crop = 0;
  gboolean quiet = FALSE, crop_given = FALSE;
  g_autoptr(GOptionContext) ctx = g_option_context_new ("-o DIR — a video as PNG frames or face-aligned crops");
  g_autoptr(WkpMediaInfo) info = NULL;
  g_autoptr(WkpLandmarkTrack) track = NULL;
  g_autoptr(WkpVideoReader) reader = NULL;
  g_autoptr(WkpCliProgress) progress = NULL;
  g_autoptr(JsonBuilder) json = NULL;
  g_autoptr(GArray) no_face = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *rate = NULL, *json_path = NULL;
  cairo_surface_t *surface = NULL;
  WkpRational fps = { 0, 0 };
  GError *error = NULL;
  gint64 n = 0, index = 0;
  WkpFrame fr;

  crop = G_MININT;   /* not given (any given value is checked, -1 included) */
  count = G_MININT64;
  {
    GOptionEntry entries[] = {
      { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Output folder (new, or an empty folder)", "DIR" },
      { "crop", 0, 0, G_OPTION_ARG_INT, &crop, "Face-aligned SIZE x SIZE crops instead of whole frames", "SIZE" },
      { "landmarks", 'l', 0, G_OPTION_ARG_FILENAME, &landmarks,
        "Landmarks of the video for --crop (wav2kp landmarks); default: extracted here", "TRACK" },
      { "start", 0, 0, G_OPTION_ARG_INT64, &start, "First frame, counted from 0 (default 0)", "F" },
      { "count", 0, 0, G_OPTION_ARG_INT64, &count, "Number of frames (default: to the end)", "N" },
      { "fps", 0, 0, G_OPTION_ARG_STRING, &fps_text, "Frame rate of an image sequence (default 25)", "NUM/DEN" },
      { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "No summary line", NULL },
      { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &files, NULL, "VIDEO" },
      { NULL }
    };
    g_option_context_add_main_entries (ctx, entries, NULL);
  }
  g_option_context_set_description (ctx,
    "Writes DIR/000001.png, 000002.png ... (file k is video frame k-1, also with --start)\n"
    "and DIR/frames.json. With --crop, each frame's face is aligned by the similarity that\n"
    "maps its landmarks onto the canonical mean face (eyes level, face centred, inter-ocular\n"
    "distance 0.4 x SIZE); frames without a face get no PNG and are listed in frames.json\n"
    "with a null matrix. DIR must be new or empty: it appears only when complete.");
  if (!wkp_cli_parse (ctx, "frames", &argc, &argv))
    return WKP_EXIT_BAD_INPUT;
  crop_given = crop != G_MININT;
  if (files == NULL || files[0] == NULL || files[1] != NULL)
    {
      g_printerr ("wav2kp frames: give exactly one input VIDEO\n");
      return WKP_EXIT_BAD_INPUT;
    }
  if (output == NULL)
    {
      g_printerr ("wav2kp frames: give the output folder with -o DIR\n");
      return WKP_EXIT_BAD_INPUT;
    }
  if (crop_given && (crop < MIN_CROP || crop > MAX_CROP))
    {
      g_printerr ("wav2kp frames: --crop must be between %d and %d pixels, not %d\n", MIN_CROP, MAX_CROP, crop);
      return WKP_EXIT_BAD_INPUT;
    }
  if (landmarks != NULL && !crop_given)
    {
      g_printerr ("wav2kp frames: --landmarks places the --crop; give --crop SIZE too\n");
      return WKP_EXIT_BAD_INPUT;
    }
  if (start < 0 || (count != G_MININT64 && count < 1))
    {
      g_printerr ("wav2kp frames: --start must be 0 or more and --count at least 1\n");
      return WKP_EXIT_BAD_INPUT;
    }
  if (fps_text != NULL && !wkp_frame_rate_parse (fps_text, &fps, &error))
    return wkp_cli_fail ("frames", error);
  /* "out/" is the folder out: its temporary goes beside it, not into it */
  for (gsize len = strlen (output); len > 1 && output[len - 1] == '/'; len--)
    output[len - 1] = '\0';
  if (!check_output_dir (output, &error))
    return wkp_cli_fail ("frames", error);

  /* the exact frame count first: --start/--count and a landmark track are checked against it */
  info = wkp_media_probe (files[0], fps, WKP_PROBE_COUNT_FRAMES, &error);
  if (info == NULL)
    return wkp_cli_fail ("frames", error);
  if (!info->has_video || info->n_frames < 1)
    return wkp_cli_fail ("frames", g_error_new (WKP_MEDIA_ERROR, WKP_ERROR_INVALID,
                                               "%s: has no video frames", files[0]));
  if (fps_text != NULL && !info->is_image_sequence)
    {
      g_autofree char *own = wkp_rational_to_string (info->fps);
      g_printerr ("wav2kp frames: note: --fps %s is for image sequences; the video's own %s fps is used\n",
                  fps_text, own);
    }
  if (start >= info->n_frames)
    return wkp_cli_fail ("frames", g_error_new (WKP_IO_ERROR, WKP_ERROR_INVALID,
                                               "%s has %" G_GINT64_FORMAT " frames (0 to %" G_GINT64_FORMAT
                                               "): --start %" G_GINT64_FORMAT " is past the end",
                                               files[0], info->n_frames, info->n_frames - 1, start));
  if (count == G_MININT64)
    count = info->n_frames - start;
  else if (count > info->n_frames - start)
    return wkp_cli_fail ("frames", g_error_new (WKP_IO_ERROR, WKP_ERROR_INVALID,
                                               "%s has %" G_GINT64_FORMAT " frames: --start %" G_GINT64_FORMAT
                                               " --count %" G_GINT64_FORMAT " runs past the end",
                                               files[0], info->n_frames, start, count));

  if (start + count > MAX_FILE_NUMBER)
    return wkp_cli_fail ("frames", g_error_new (WKP_IO_ERROR, WKP_ERROR_INVALID,
                                               "%s: frame numbers above %d do not fit the 6-digit file names; "
                                               "split the video with --start and --count", files[0],
                                               MAX_FILE_NUMBER));

  if (crop_given && landmarks != NULL)
    {
      track = wkp_landmark_track_load (landmarks, info->fps, &error);
      if (track == NULL
          || !wkp_landmark_track_check_fits (track, landmarks, info->n_frames, info->width, info->height, &error))
        return wkp_cli_fail ("frames", error);
    }
  else if (crop_given)
    {
      WkpLandmarkParams lp;
      wkp_landmark_params_init_default (&lp);
      lp.max_frames = start + count;
      progress = wkp_cli_progress_new ("frames: landmarks");
      track = wkp_landmarks_extract (files[0], fps, &lp, wkp_cli_progress_update, progress, NULL, &error);
      g_clear_pointer (&progress, wkp_cli_progress_free);
      if (track == NULL)
        return wkp_cli_fail ("frames", error);
      if (track->n_frames < start + count)
        return wkp_cli_fail ("frames", g_error_new (WKP_IO_ERROR, WKP_ERROR_MISMATCH,
                                                   "%s: %" G_GINT64_FORMAT " frames counted but landmarks found "
                                                   "for %" G_GINT64_FORMAT, files[0], info->n_frames,
                                                   track->n_frames));
    }

  reader = wkp_video_reader_open (files[0], fps, WKP_PIXEL_RGB24, &error);
  if (reader == NULL)
    return wkp_cli_fail ("frames", error);
  if (!make_tmp_dir (output, &error))
    return wkp_cli_fail ("frames", error);

  json = json_builder_new ();
  rate = wkp_rational_to_string (info->fps);
  json_builder_begin_object (json);
  json_builder_set_member_name (json, "kind");
  json_builder_add_string_value (json, "wav2kp.frames");
  json_builder_set_member_name (json, "version");
  json_builder_add_string_value (json, WKP_VERSION);
  json_builder_set_member_name (json, "source");
  json_builder_add_string_value (json, files[0]);
  json_builder_set_member_name (json, "fps");
  json_builder_add_string_value (json, rate);
  json_builder_set_member_name (json, "width");
  json_builder_add_int_value (json, info->width);
  json_builder_set_member_name (json, "height");
  json_builder_add_int_value (json, info->height);
  json_builder_set_member_name (json, "video_frames");
  json_builder_add_int_value (json, info->n_frames);
  if (info->resampled)
    {
      /* irregular timing: the frames are the constant grid's (frame k is the
       * picture on screen at k/fps), from this many pictures */
      json_builder_set_member_name (json, "pictures");
      json_builder_add_int_value (json, info->n_decoded);
    }
  json_builder_set_member_name (json, "start");
  json_builder_add_int_value (json, start);
  json_builder_set_member_name (json, "frames");
  json_builder_add_int_value (json, count);
  json_builder_set_member_name (json, "naming");
  json_builder_add_string_value (json, "NNNNNN.png is video frame NNNNNN-1 (counted from 0), which starts at "
                                       "(NNNNNN-1)*den/num s");
  json_builder_set_member_name (json, "crop");
  if (crop_given)
    {
      json_builder_begin_object (json);
      json_builder_set_member_name (json, "size");
      json_builder_add_int_value (json, crop);
      json_builder_set_member_name (json, "landmarks");
      json_builder_add_string_value (json, landmarks != NULL ? landmarks : "extracted (dlib, wav2kp landmarks defaults)");
      json_builder_set_member_name (json, "alignment");
      json_builder_add_string_value (json, "least-squares similarity of the eye corners and nose onto the canonical "
                                           "mean face (as the dataset normalises), then canonical_to_crop");
      json_builder_set_member_name (json, "canonical_to_crop");
      {
        WkpSimilarity m = { crop / CROP_SPAN, 0, (crop - 1) / 2.0, (crop - 1) / 2.0 - crop / CROP_SPAN * CROP_CENTRE_Y };
        add_matrix (json, &m);
      }
      json_builder_set_member_name (json, "resampling");
      json_builder_add_string_value (json, "bilinear at the inverse-mapped position, pixel centres at integers, "
                                           "black outside the frame");
      json_builder_end_object (json);
      json_builder_set_member_name (json, "affine");
      json_builder_begin_array (json);
    }
  else
    json_builder_add_null_value (json);

  no_face = g_array_new (FALSE, FALSE, sizeof (gint64));
  progress = wkp_cli_progress_new ("frames");
  for (index = 0; n < count; index++)
    {
      char path[4096 + 16];
      if (!wkp_video_reader_next (reader, &fr, &error))
        {
          if (error == NULL)
            error = g_error_new (WKP_MEDIA_ERROR, WKP_ERROR_INVALID,
                                 "%s: ended after %" G_GINT64_FORMAT " frames, %" G_GINT64_FORMAT " counted",
                                 files[0], index, info->n_frames);
          g_clear_pointer (&surface, cairo_surface_destroy);
          return fail_cleanly (error);
        }
      if (index < start)
        continue;
      if (surface == NULL || (!crop_given && (cairo_image_surface_get_width (surface) != fr.width
                                              || cairo_image_surface_get_height (surface) != fr.height)))
        {
          g_clear_pointer (&surface, cairo_surface_destroy);
          surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, crop_given ? crop : fr.width,
                                                crop_given ? crop : fr.height);
          if (cairo_surface_status (surface) != CAIRO_STATUS_SUCCESS)
            {
              error = g_error_new (WKP_IO_ERROR, WKP_ERROR_IO, "%s: frame %" G_GINT64_FORMAT ": %s", files[0],
                                   index, cairo_status_to_string (cairo_surface_status (surface)));
              g_clear_pointer (&surface, cairo_surface_destroy);
              return fail_cleanly (error);
            }
        }
      frame_file_name (path, sizeof path, tmp_dir, (long) (index + 1));
      if (crop_given)
        {
          WkpSimilarity m, inv;
          if (crop_transform (track->points + index * WKP_N_LANDMARKS * 2, crop, &m))
            {
              inv = wkp_similarity_invert (&m);
              warp_bilinear (&fr, &inv, surface, crop);
              add_matrix (json, &m);
            }
          else
            {
              json_builder_add_null_value (json);
              g_array_append_val (no_face, index);
              path[0] = '\0';
            }
        }
      else
        copy_frame (&fr, surface);
      if (path[0] != '\0' && !write_png (surface, path, &error))
        {
          g_clear_pointer (&surface, cairo_surface_destroy);
          return fail_cleanly (error);
        }
      n++;
      if (n % 4 == 0 || n == count)
        wkp_cli_progress_update (n, count, NULL, progress);
    }
  g_clear_pointer (&surface, cairo_surface_destroy);
  g_clear_pointer (&progress, wkp_cli_progress_free);

  if (crop_given)
    {
      json_builder_end_array (json);
      json_builder_set_member_name (json, "no_face");
      json_builder_begin_array (json);
      for (guint i = 0; i < no_face->len; i++)
        json_builder_add_int_value (json, g_array_index (no_face, gint64, i) + 1);
      json_builder_end_array (json);
      json_builder_set_member_name (json, "no_face_note");
      json_builder_add_string_value (json, "file numbers (frame + 1) without a face: no PNG, a null matrix");
    }
  json_builder_end_object (json);
  root = json_builder_get_root (json);
  json_path = g_build_filename (tmp_dir, "frames.json", NULL);
  {
    g_autofree char *text = wkp_json_to_string (root, TRUE);
    g_autoptr(GError) local = NULL;
    if (!g_file_set_contents_full (json_path, text, -1, G_FILE_SET_CONTENTS_NONE, 0644, &local))
      return fail_cleanly (g_error_new (WKP_IO_ERROR, WKP_ERROR_IO, "%s", local->message));
  }
  /* DIR appears whole: rename replaces an empty folder and fails on one that
   * got files meanwhile (ENOTEMPTY), which is then left alone */
  if (g_rename (tmp_dir, output) != 0)
    {
      int e = errno;
      return fail_cleanly (g_error_new (WKP_IO_ERROR, WKP_ERROR_IO, "Cannot write %s: %s", output,
                                        e == ENOTEMPTY || e == EEXIST ? "the folder is not empty" : g_strerror (e)));
    }
  wkp_io_unregister_temp_dir (tmp_dir);
  tmp_active = FALSE;

  if (!quiet)
    {
      if (crop_given)
        {
          printf ("%s: %" G_GINT64_FORMAT " crops of %dx%d from %s, %u frames without a face", output,
                  n - (gint64) no_face->len, crop, crop, files[0], no_face->len);
          for (guint i = 0; i < no_face->len && i < 20; i++)
            printf ("%s%06" G_GINT64_FORMAT, i == 0 ? " (" : ", ", g_array_index (no_face, gint64, i) + 1);
          printf ("%s\n", no_face->len == 0 ? "" : no_face->len > 20 ? ", ... see frames.json)" : ")");
        }
      else
        printf ("%s: %" G_GINT64_FORMAT " frames of %dx%d from %s\n", output, n, info->width, info->height, files[0]);
    }
  return WKP_EXIT_OK;
}
