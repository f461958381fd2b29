#include "wkp-spectrogram-view.h"

#include <math.h>

#define TILE_COLS 1024

struct _WkpSpectrogramView
{
  WkpTimeView parent_instance;

  GBytes     *matrix;
  gint64      n_steps;
  int         n_coeffs;
  int         rate_num;
  int         rate_den;
  WkpColormap colormap;

  GPtrArray  *tiles;        /* GdkTexture, TILE_COLS steps each */
  guint       generation;
  gboolean    rendering;
  GCancellable *cancellable;
};

G_DEFINE_FINAL_TYPE (WkpSpectrogramView, wkp_spectrogram_view, WKP_TYPE_TIME_VIEW)

enum { PROP_0, PROP_COLORMAP, PROP_RENDERING, N_PROPS };
static GParamSpec *properties[N_PROPS];

typedef struct
{
  GBytes     *matrix;
  gint64      n_steps;
  int         n_coeffs;
  WkpColormap colormap;
  guint       generation;
} RenderJob;

static void
render_job_free (gpointer data)
{
  RenderJob *job = data;
  g_bytes_unref (job->matrix);
  g_free (job);
}

static void
render_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  RenderJob *job = task_data;
  const float *m = g_bytes_get_data (job->matrix, NULL);
  g_autofree float *offset = g_new0 (float, job->n_coeffs);
  g_autofree float *scale = g_new0 (float, job->n_coeffs);
  GPtrArray *tiles = g_ptr_array_new_with_free_func (g_object_unref);

  /* per-coefficient standardisation, z in [-2.5, 2.5] -> [0, 1] */
  for (int c = 0; c < job->n_coeffs; c++)
    {
      double sum = 0, sum2 = 0;
      gint64 n = 0;
      for (gint64 t = 0; t < job->n_steps; t++)
        {
          double v = m[t * job->n_coeffs + c];
          if (isnan (v))
            continue;
          sum += v;
          sum2 += v * v;
          n++;
        }
      double mean = n > 0 ? sum / n : 0.0;
      double var = n > 0 ? sum2 / n - mean * mean : 0.0;
      double sd = var > 1e-12 ? sqrt (var) : 1.0;
      offset[c] = (float) (mean - 2.5 * sd);
      scale[c] = (float) (1.0 / (5.0 * sd));
    }

  for (gint64 col = 0; col < job->n_steps; col += TILE_COLS)
    {
      int n = (int) MIN (TILE_COLS, job->n_steps - col);
      if (g_cancellable_is_cancelled (cancellable))
        break;
      g_ptr_array_add (tiles, wkp_colormap_render (job->colormap, m, col, n, job->n_coeffs, offset, scale));
    }
  g_task_return_pointer (task, tiles, (GDestroyNotify) g_ptr_array_unref);
}

static void
set_rendering (WkpSpectrogramView *self, gboolean rendering)
{
  if (self->rendering == rendering)
    return;
  self->rendering = rendering;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RENDERING]);
}

static void
render_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  WkpSpectrogramView *self = WKP_SPECTROGRAM_VIEW (source);
  RenderJob *job = g_task_get_task_data (G_TASK (result));
  GPtrArray *tiles = g_task_propagate_pointer (G_TASK (result), NULL);

  /* a render that was cancelled, superseded, or that finishes after the view
   * was disposed (the task keeps it alive until here) changes nothing */
  if (tiles == NULL || job->generation != self->generation)
    {
      g_clear_pointer (&tiles, g_ptr_array_unref);
      return;
    }
  g_clear_pointer (&self->tiles, g_ptr_array_unref);
  self->tiles = tiles;
  set_rendering (self, FALSE);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
start_render (WkpSpectrogramView *self)
{
  g_autoptr(GTask) task = NULL;
  RenderJob *job;

  self->generation++;
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);

  if (self->matrix == NULL || self->n_steps <= 0 || self->n_coeffs <= 0)
    {
      g_clear_pointer (&self->tiles, g_ptr_array_unref);
      set_rendering (self, FALSE);
      gtk_widget_queue_draw (GTK_WIDGET (self));
      return;
    }
  self->cancellable = g_cancellable_new ();
  job = g_new0 (RenderJob, 1);
  job->matrix = g_bytes_ref (self->matrix);
  job->n_steps = self->n_steps;
  job->n_coeffs = self->n_coeffs;
  job->colormap = self->colormap;
  job->generation = self->generation;
  task = g_task_new (self, self->cancellable, render_done, NULL);
  g_task_set_task_data (task, job, render_job_free);
  g_task_set_name (task, "[wkp] spectrogram tiles");
  set_rendering (self, TRUE);
  g_task_run_in_thread (task, render_thread);
}

/* A tile zoomed in so far that each analysis step is several pixels wide:
 * drawn with nearest-neighbour sampling, so that single steps (four per video
 * frame) are sharp blocks and can be counted against the frame grid (GTK 4.8
 * scales textures linearly, which smeared them). Only the visible part. */
static void
append_tile_nearest (GtkSnapshot *snapshot, GdkTexture *tex, double x0, double x1, double w, double h)
{
  int tw = gdk_texture_get_width (tex), th = gdk_texture_get_height (tex);
  double vx0 = MAX (x0, 0), vx1 = MIN (x1, w);
  cairo_surface_t *img;
  cairo_t *cr;

  if (vx1 <= vx0)
    return;
  img = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, tw, th);
  gdk_texture_download (tex, cairo_image_surface_get_data (img), cairo_image_surface_get_stride (img));
  cairo_surface_mark_dirty (img);
  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (vx0, 0, vx1 - vx0, h));
  cairo_rectangle (cr, vx0, 0, vx1 - vx0, h);
  cairo_clip (cr);
  cairo_translate (cr, x0, 0);
  cairo_scale (cr, (x1 - x0) / tw, h / th);
  cairo_set_source_surface (cr, img, 0, 0);
  cairo_pattern_set_filter (cairo_get_source (cr), CAIRO_FILTER_NEAREST);
  cairo_paint (cr);
  cairo_destroy (cr);
  cairo_surface_destroy (img);
}

static void
wkp_spectrogram_view_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  WkpSpectrogramView *self = WKP_SPECTROGRAM_VIEW (widget);
  double w = gtk_widget_get_width (widget);
  double h = gtk_widget_get_height (widget);
  GdkRGBA bg = { 0.12, 0.12, 0.14, 1.0 };
  WkpTimeMap map;

  gtk_snapshot_push_clip (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h));
  gtk_snapshot_append_color (snapshot, &bg, &GRAPHENE_RECT_INIT (0, 0, w, h));
  wkp_time_view_get_map (WKP_TIME_VIEW (self), w, &map);

  if (self->tiles != NULL && self->rate_num > 0)
    {
      for (guint k = 0; k < self->tiles->len; k++)
        {
          GdkTexture *tex = g_ptr_array_index (self->tiles, k);
          gint64 s0 = (gint64) k * TILE_COLS;
          gint64 s1 = s0 + gdk_texture_get_width (tex);
          double x0 = wkp_time_map_to_x (&map, wkp_view_frame_start (s0, self->rate_num, self->rate_den));
          double x1 = wkp_time_map_to_x (&map, wkp_view_frame_start (s1, self->rate_num, self->rate_den));
          if (x1 < 0 || x0 > w)
            continue;
          if ((x1 - x0) / gdk_texture_get_width (tex) >= 3.0)
            append_tile_nearest (snapshot, tex, x0, x1, w, h);
          else
            gtk_snapshot_append_texture (snapshot, tex, &GRAPHENE_RECT_INIT (x0, 0, x1 - x0, h));
        }
    }
  /* the selection: white edges and a band along the top and bottom, the
   * coefficients between them left as they are (a veil over the colormap
   * washed out exactly the part selected for a closer look) */
  {
    GdkRGBA band = { 1, 1, 1, 0.85 };
    GdkRGBA edge = { 1, 1, 1, 0.95 };
    gint64 s0, s1;
    wkp_time_view_get_selection (WKP_TIME_VIEW (self), &s0, &s1);
    if (s0 >= 0 && s1 > s0)
      {
        double x0 = CLAMP (wkp_time_map_to_x (&map, s0), 0, w);
        double x1 = CLAMP (wkp_time_map_to_x (&map, s1), 0, w);
        if (x1 > x0)
          {
            gtk_snapshot_append_color (snapshot, &band, &GRAPHENE_RECT_INIT (x0, 0, x1 - x0, 4));
            gtk_snapshot_append_color (snapshot, &band, &GRAPHENE_RECT_INIT (x0, h - 4, x1 - x0, 4));
          }
      }
    wkp_time_view_snapshot_selection_edges (WKP_TIME_VIEW (self), snapshot, w, h, &edge);
  }
  wkp_time_view_snapshot_playhead (WKP_TIME_VIEW (self), snapshot, w, h);
  gtk_snapshot_pop (snapshot);
}

static void
wkp_spectrogram_view_measure (GtkWidget *widget, GtkOrientation orientation, int for_size,
                              int *minimum, int *natural, int *min_baseline, int *nat_baseline)
{
  *minimum = orientation == GTK_ORIENTATION_HORIZONTAL ? 100 : 40;
  *natural = orientation == GTK_ORIENTATION_HORIZONTAL ? 400 : 120;
}

static void
wkp_spectrogram_view_dispose (GObject *object)
{
  WkpSpectrogramView *self = WKP_SPECTROGRAM_VIEW (object);
  self->generation++;   /* a render still running is dropped in render_done */
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->matrix, g_bytes_unref);
  g_clear_pointer (&self->tiles, g_ptr_array_unref);
  G_OBJECT_CLASS (wkp_spectrogram_view_parent_class)->dispose (object);
}

static void
wkp_spectrogram_view_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  WkpSpectrogramView *self = WKP_SPECTROGRAM_VIEW (object);
  switch (prop_id)
    {
    case PROP_COLORMAP: g_value_set_enum (value, self->colormap); break;
    case PROP_RENDERING: g_value_set_boolean (value, self->rendering); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
wkp_spectrogram_view_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  WkpSpectrogramView *self = WKP_SPECTROGRAM_VIEW (object);
  switch (prop_id)
    {
    case PROP_COLORMAP: wkp_spectrogram_view_set_colormap (self, g_value_get_enum (value)); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
wkp_spectrogram_view_class_init (WkpSpectrogramViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = wkp_spectrogram_view_dispose;
  object_class->get_property = wkp_spectrogram_view_get_property;
  object_class->set_property = wkp_spectrogram_view_set_property;
  widget_class->snapshot = wkp_spectrogram_view_snapshot;
  widget_class->measure = wkp_spectrogram_view_measure;

  properties[PROP_COLORMAP] =
    g_param_spec_enum ("colormap", NULL, NULL, WKP_TYPE_COLORMAP, WKP_COLORMAP_VIRIDIS,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_RENDERING] =
    g_param_spec_boolean ("rendering", NULL, NULL, FALSE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
  gtk_widget_class_set_css_name (widget_class, "spectrogram");
}

static void
wkp_spectrogram_view_init (WkpSpectrogramView *self)
{
  self->colormap = WKP_COLORMAP_VIRIDIS;
}

GtkWidget *
wkp_spectrogram_view_new (void)
{
  return g_object_new (WKP_TYPE_SPECTROGRAM_VIEW, NULL);
}

void
wkp_spectrogram_view_set_data (WkpSpectrogramView *self, GBytes *matrix, gint64 n_steps, int n_coeffs,
                               int rate_num, int rate_den)
{
  g_return_if_fail (WKP_IS_SPECTROGRAM_VIEW (self));
  g_return_if_fail (matrix == NULL ||
                    g_bytes_get_size (matrix) >= (gsize) n_steps * (gsize) n_coeffs * sizeof (float));
  g_return_if_fail (matrix == NULL || (rate_num > 0 && rate_den > 0));

  g_clear_pointer (&self->matrix, g_bytes_unref);
  if (matrix != NULL)
    self->matrix = g_bytes_ref (matrix);
  self->n_steps = n_steps;
  self->n_coeffs = n_coeffs;
  self->rate_num = rate_num;
  self->rate_den = rate_den;
  start_render (self);
}

void
wkp_spectrogram_view_set_colormap (WkpSpectrogramView *self, WkpColormap colormap)
{
  g_return_if_fail (WKP_IS_SPECTROGRAM_VIEW (self));
  if (self->colormap == colormap)
    return;
  self->colormap = colormap;
  start_render (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_COLORMAP]);
}

WkpColormap
wkp_spectrogram_view_get_colormap (WkpSpectrogramView *self)
{
  return self->colormap;
}

gboolean
wkp_spectrogram_view_is_rendering (WkpSpectrogramView *self)
{
  return self->rendering;
}
