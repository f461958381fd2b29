#include "wkp-frame-view.h"
#include "wkp-face-shape.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

struct _WkpFrameView
{
  GtkWidget   parent_instance;

  GdkTexture *texture;
  gint64      index;
  int         src_w;
  int         src_h;
  float       points[WKP_VIEW_N_POINTS * 2];
  gboolean    has_points;
  char       *placeholder;

  gboolean    show_points;
  gboolean    show_contours;
  gboolean    show_indices;
  gboolean    mouth_only;
};

G_DEFINE_FINAL_TYPE (WkpFrameView, wkp_frame_view, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_FRAME_INDEX,
  PROP_SHOW_POINTS,
  PROP_SHOW_CONTOURS,
  PROP_SHOW_INDICES,
  PROP_MOUTH_ONLY,
  N_PROPS
};
static GParamSpec *properties[N_PROPS];

gboolean
wkp_frame_view_compute_letterbox (int src_w, int src_h, double width, double height, graphene_rect_t *out)
{
  double s, w, h;
  if (src_w <= 0 || src_h <= 0 || width <= 0 || height <= 0)
    return FALSE;
  s = MIN (width / src_w, height / src_h);
  w = src_w * s;
  h = src_h * s;
  graphene_rect_init (out, (width - w) / 2.0, (height - h) / 2.0, w, h);
  return TRUE;
}

static gboolean
points_mean (const float *points, int first, int last, double *x, double *y)
{
  double sx = 0, sy = 0;
  int n = 0;
  for (int i = first; i <= last; i++)
    if (!isnan (points[2 * i]) && !isnan (points[2 * i + 1]))
      {
        sx += points[2 * i];
        sy += points[2 * i + 1];
        n++;
      }
  if (n == 0)
    return FALSE;
  *x = sx / n;
  *y = sy / n;
  return TRUE;
}

gboolean
wkp_frame_view_mouth_crop (const float *points, double aspect, graphene_rect_t *out)
{
  double x0 = G_MAXDOUBLE, y0 = G_MAXDOUBLE, x1 = -G_MAXDOUBLE, y1 = -G_MAXDOUBLE;
  double lx, ly, rx, ry, cw, ch;
  int n = 0;

  if (!(aspect > 0))
    return FALSE;
  for (int i = WKP_VIEW_MOUTH_FIRST; i < WKP_VIEW_N_POINTS; i++)
    {
      double x = points[2 * i], y = points[2 * i + 1];
      if (isnan (x) || isnan (y))
        continue;
      x0 = MIN (x0, x);
      x1 = MAX (x1, x);
      y0 = MIN (y0, y);
      y1 = MAX (y1, y);
      n++;
    }
  if (n < 2)
    return FALSE;
  /* the size follows the face (1.8 inter-ocular distances, the mouth about
   * half of it), not the mouth, which opens and closes: the zoom stays
   * steady while the mouth moves; it always holds the mouth with a margin */
  if (points_mean (points, 36, 41, &lx, &ly) && points_mean (points, 42, 47, &rx, &ry))
    cw = 1.8 * hypot (rx - lx, ry - ly);
  else
    cw = 2.0 * (x1 - x0);
  cw = MAX (cw, 1.3 * (x1 - x0));
  cw = MAX (cw, 1.3 * (y1 - y0) * aspect);
  cw = MAX (cw, 16.0);
  ch = cw / aspect;
  graphene_rect_init (out, (x0 + x1) / 2 - cw / 2, (y0 + y1) / 2 - ch / 2, cw, ch);
  return TRUE;
}

static void
source_size (WkpFrameView *self, int *w, int *h)
{
  if (self->texture != NULL)
    {
      *w = gdk_texture_get_width (self->texture);
      *h = gdk_texture_get_height (self->texture);
    }
  else
    {
      *w = self->src_w;
      *h = self->src_h;
    }
}

/* The order in which point indices are labelled: spread over the face
 * first (every 8th point, then every 4th, 2nd, the rest), so that where the
 * labels do not all fit, those drawn are evenly spread. Returns the count. */
int
wkp_frame_view_index_order (int first, int last, int *order)
{
  int n = 0;
  for (int stride = 8; stride >= 1; stride /= 2)
    for (int i = first; i <= last; i++)
      {
        int k = i - first;
        if (k % stride == 0 && (stride == 8 || k % (2 * stride) != 0))
          order[n++] = i;
      }
  return n;
}

/* Point indices, each next to its point, left out where it would overlap one
 * already drawn (around the mouth and the eyes at ordinary sizes they would
 * run together into a blob). */
static void
draw_indices (WkpFrameView *self, cairo_t *cr, const graphene_rect_t *r, double scale, double radius)
{
  int first = self->mouth_only ? WKP_VIEW_MOUTH_FIRST : 0;
  int order[WKP_VIEW_N_POINTS];
  graphene_rect_t placed[WKP_VIEW_N_POINTS];
  int n_placed = 0;
  int n = wkp_frame_view_index_order (first, WKP_VIEW_N_POINTS - 1, order);

  cairo_set_font_size (cr, 9.0);
  cairo_set_line_width (cr, 2.0);
  for (int k = 0; k < n; k++)
    {
      int i = order[k];
      double x = self->points[2 * i], y = self->points[2 * i + 1];
      cairo_text_extents_t ext;
      graphene_rect_t box;
      gboolean clear = TRUE;
      char label[8];

      if (isnan (x) || isnan (y))
        continue;
      x = x * scale + r->origin.x + radius + 1;
      y = y * scale + r->origin.y - radius - 1;
      g_snprintf (label, sizeof label, "%d", i);
      cairo_text_extents (cr, label, &ext);
      /* the text's ink with 1 px for its outline */
      graphene_rect_init (&box, x + ext.x_bearing - 1, y + ext.y_bearing - 1, ext.width + 2, ext.height + 2);
      for (int j = 0; j < n_placed && clear; j++)
        clear = !graphene_rect_intersection (&box, &placed[j], NULL);
      if (!clear)
        continue;
      placed[n_placed++] = box;
      cairo_move_to (cr, x, y);
      cairo_text_path (cr, label);
      cairo_set_source_rgba (cr, 0, 0, 0, 0.8);
      cairo_stroke_preserve (cr);
      cairo_set_source_rgb (cr, 1, 1, 1);
      cairo_fill (cr);
    }
}

static void
draw_overlay (WkpFrameView *self, cairo_t *cr, const graphene_rect_t *r, double scale)
{
  double ox = r->origin.x, oy = r->origin.y;
  double radius = CLAMP (scale * 1.6, 1.5, 4.0);

  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  if (self->show_contours)
    {
      wkp_face_shape_path (cr, self->points, scale, ox, oy, self->mouth_only);
      cairo_set_source_rgba (cr, 0, 0, 0, 0.55);
      cairo_set_line_width (cr, 3.0);
      cairo_stroke_preserve (cr);
      cairo_set_source_rgba (cr, 0.20, 0.82, 0.48, 0.95);
      cairo_set_line_width (cr, 1.4);
      cairo_stroke (cr);
    }
  if (self->show_points)
    {
      int first = self->mouth_only ? WKP_VIEW_MOUTH_FIRST : 0;
      for (int i = first; i < WKP_VIEW_N_POINTS; i++)
        {
          double x = self->points[2 * i], y = self->points[2 * i + 1];
          if (isnan (x) || isnan (y))
            continue;
          cairo_arc (cr, x * scale + ox, y * scale + oy, radius, 0, 2 * G_PI);
          if (i >= WKP_VIEW_MOUTH_FIRST)
            cairo_set_source_rgba (cr, 0.96, 0.76, 0.07, 1.0);
          else
            cairo_set_source_rgba (cr, 0.20, 0.82, 0.48, 1.0);
          cairo_fill_preserve (cr);
          cairo_set_source_rgba (cr, 0, 0, 0, 0.7);
          cairo_set_line_width (cr, 0.8);
          cairo_stroke (cr);
        }
    }
  if (self->show_indices)
    draw_indices (self, cr, r, scale, radius);
}

static void
wkp_frame_view_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  WkpFrameView *self = WKP_FRAME_VIEW (widget);
  double w = gtk_widget_get_width (widget);
  double h = gtk_widget_get_height (widget);
  GdkRGBA bg = { 0.08, 0.08, 0.09, 1.0 };
  graphene_rect_t r;
  int sw, sh;

  gtk_snapshot_append_color (snapshot, &bg, &GRAPHENE_RECT_INIT (0, 0, w, h));
  source_size (self, &sw, &sh);

  if (!wkp_frame_view_compute_letterbox (sw, sh, w, h, &r))
    {
      if (self->placeholder != NULL)
        {
          PangoLayout *layout = gtk_widget_create_pango_layout (widget, self->placeholder);
          GdkRGBA fg = { 0.8, 0.8, 0.8, 1.0 };
          int lw, lh;
          pango_layout_set_alignment (layout, PANGO_ALIGN_CENTER);
          pango_layout_get_pixel_size (layout, &lw, &lh);
          if (lw > w - 32 && w > 64)
            {
              /* a long message (an error naming a file) wraps, centred */
              pango_layout_set_width (layout, (int) (w - 32) * PANGO_SCALE);
              pango_layout_set_wrap (layout, PANGO_WRAP_WORD_CHAR);
              pango_layout_get_pixel_size (layout, NULL, &lh);
              lw = (int) w - 32;
            }
          gtk_snapshot_save (snapshot);
          gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT ((w - lw) / 2, (h - lh) / 2));
          gtk_snapshot_append_layout (snapshot, layout, &fg);
          gtk_snapshot_restore (snapshot);
          g_object_unref (layout);
        }
      return;
    }

  /* Mouth Only: zoomed to the mouth, where its points and indices are
   * readable (whole picture when that would not enlarge it) */
  if (self->mouth_only && self->has_points)
    {
      graphene_rect_t crop;
      if (wkp_frame_view_mouth_crop (self->points, w / h, &crop) && (crop.size.width < sw || crop.size.height < sh))
        {
          double s = w / crop.size.width;
          graphene_rect_init (&r, -crop.origin.x * s, -crop.origin.y * s, sw * s, sh * s);
        }
    }

  gtk_snapshot_push_clip (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h));
  if (self->texture != NULL)
    gtk_snapshot_append_texture (snapshot, self->texture, &r);

  if (self->has_points && (self->show_points || self->show_contours || self->show_indices))
    {
      cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h));
      draw_overlay (self, cr, &r, r.size.width / sw);
      cairo_destroy (cr);
    }
  gtk_snapshot_pop (snapshot);
}

static void
wkp_frame_view_measure (GtkWidget *widget, GtkOrientation orientation, int for_size,
                        int *minimum, int *natural, int *min_baseline, int *nat_baseline)
{
  *minimum = 80;
  *natural = orientation == GTK_ORIENTATION_HORIZONTAL ? 480 : 360;
}

static void
wkp_frame_view_finalize (GObject *object)
{
  WkpFrameView *self = WKP_FRAME_VIEW (object);
  g_clear_object (&self->texture);
  g_free (self->placeholder);
  G_OBJECT_CLASS (wkp_frame_view_parent_class)->finalize (object);
}

static gboolean *
flag_for (WkpFrameView *self, guint prop_id)
{
  switch (prop_id)
    {
    case PROP_SHOW_POINTS: return &self->show_points;
    case PROP_SHOW_CONTOURS: return &self->show_contours;
    case PROP_SHOW_INDICES: return &self->show_indices;
    case PROP_MOUTH_ONLY: return &self->mouth_only;
    default: return NULL;
    }
}

static void
wkp_frame_view_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  WkpFrameView *self = WKP_FRAME_VIEW (object);
  gboolean *flag = flag_for (self, prop_id);
  if (prop_id == PROP_FRAME_INDEX)
    g_value_set_int64 (value, self->index);
  else if (flag != NULL)
    g_value_set_boolean (value, *flag);
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
}

static void
wkp_frame_view_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  WkpFrameView *self = WKP_FRAME_VIEW (object);
  gboolean *flag = flag_for (self, prop_id);
  if (flag == NULL)
    {
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      return;
    }
  if (*flag == g_value_get_boolean (value))
    return;
  *flag = g_value_get_boolean (value);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (object, pspec);
}

static void
wkp_frame_view_class_init (WkpFrameViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = wkp_frame_view_finalize;
  object_class->get_property = wkp_frame_view_get_property;
  object_class->set_property = wkp_frame_view_set_property;
  widget_class->snapshot = wkp_frame_view_snapshot;
  widget_class->measure = wkp_frame_view_measure;

  properties[PROP_FRAME_INDEX] =
    g_param_spec_int64 ("frame-index", NULL, NULL, -1, G_MAXINT64, -1,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SHOW_POINTS] =
    g_param_spec_boolean ("show-points", NULL, NULL, TRUE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SHOW_CONTOURS] =
    g_param_spec_boolean ("show-contours", NULL, NULL, TRUE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SHOW_INDICES] =
    g_param_spec_boolean ("show-indices", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_MOUTH_ONLY] =
    g_param_spec_boolean ("mouth-only", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
  gtk_widget_class_set_css_name (widget_class, "frameview");
}

static void
wkp_frame_view_init (WkpFrameView *self)
{
  self->index = -1;
  self->show_points = TRUE;
  self->show_contours = TRUE;
  gtk_widget_set_overflow (GTK_WIDGET (self), GTK_OVERFLOW_HIDDEN);
}

GtkWidget *
wkp_frame_view_new (void)
{
  return g_object_new (WKP_TYPE_FRAME_VIEW, NULL);
}

void
wkp_frame_view_set_frame (WkpFrameView *self, GdkTexture *texture, gint64 index)
{
  g_return_if_fail (WKP_IS_FRAME_VIEW (self));
  g_set_object (&self->texture, texture);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  if (self->index != index)
    {
      self->index = index;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FRAME_INDEX]);
    }
}

gint64
wkp_frame_view_get_index (WkpFrameView *self)
{
  return self->index;
}

GdkTexture *
wkp_frame_view_get_texture (WkpFrameView *self)
{
  return self->texture;
}

void
wkp_frame_view_set_source_size (WkpFrameView *self, int width, int height)
{
  self->src_w = width;
  self->src_h = height;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
wkp_frame_view_set_landmarks (WkpFrameView *self, const float *points)
{
  g_return_if_fail (WKP_IS_FRAME_VIEW (self));
  if (points == NULL && !self->has_points)
    return;
  if (points != NULL && self->has_points && memcmp (points, self->points, sizeof self->points) == 0)
    return;
  self->has_points = points != NULL;
  if (points != NULL)
    memcpy (self->points, points, sizeof self->points);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

const char *
wkp_frame_view_get_placeholder (WkpFrameView *self)
{
  g_return_val_if_fail (WKP_IS_FRAME_VIEW (self), NULL);
  return self->placeholder;
}

void
wkp_frame_view_set_placeholder (WkpFrameView *self, const char *text)
{
  g_free (self->placeholder);
  self->placeholder = g_strdup (text);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}
