#include "wkp-dataset-window.h"

#include <glib/gi18n.h>

#include "wkp-dataset.h"
#include "wkp-time.h"

struct _WkpDatasetWindow {
  GtkWindow     parent_instance;
  GtkListBox   *list;
  GtkLabel     *note;
  GtkCheckButton *flagged;
  GCancellable *cancellable;
  WkpDataset   *ds;
  gboolean      loading;
};

G_DEFINE_FINAL_TYPE (WkpDatasetWindow, wkp_dataset_window, GTK_TYPE_WINDOW)

enum { SIGNAL_OPEN_CLIP, N_SIGNALS };
static guint signals[N_SIGNALS];

gboolean
wkp_dataset_window_is_dataset (const char *path)
{
  g_autofree char *manifest = NULL;
  g_autofree char *base = NULL;
  if (path == NULL)
    return FALSE;
  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      manifest = g_build_filename (path, "dataset.json", NULL);
      return g_file_test (manifest, G_FILE_TEST_IS_REGULAR);
    }
  base = g_path_get_basename (path);
  return g_str_equal (base, "dataset.json") && g_file_test (path, G_FILE_TEST_IS_REGULAR);
}

char *
wkp_dataset_window_offset_text (const WkpDatasetClip *c)
{
  int n = ABS (c->offset_frames);
  if (c->flags & WKP_CLIP_FLAG_OFFSET_UNSURE)
    return g_strdup_printf (ngettext ("offset unsure (%+d frame, confidence %.2f)",
                                      "offset unsure (%+d frames, confidence %.2f)", n),
                            c->offset_frames, c->offset_confidence);
  if (c->offset_frames == 0)
    return g_strdup_printf (_("no offset (confidence %.2f)"), c->offset_confidence);
  /* an estimate that was not flagged says why: a confident "+4" beside no
   * flag read as a contradiction */
  if (!(c->flags & WKP_CLIP_FLAG_OFFSET) && n < 2)
    /* TRANSLATORS: the offset estimate, not flagged because it is one frame */
    return g_strdup_printf (_("offset %+d frame (confidence %.2f; one frame: not flagged)"), c->offset_frames,
                            c->offset_confidence);
  if (!(c->flags & WKP_CLIP_FLAG_OFFSET) && isfinite (c->offset_gain))
    /* TRANSLATORS: the offset estimate, not flagged because the correlation at
     * that lag beats the one at lag 0 by only "gain" */
    return g_strdup_printf (ngettext ("offset %+d frame (confidence %.2f, but it beats lag 0 by only %.2f in r: "
                                      "not flagged)",
                                      "offset %+d frames (confidence %.2f, but it beats lag 0 by only %.2f in r: "
                                      "not flagged)", n),
                            c->offset_frames, c->offset_confidence, c->offset_gain);
  /* TRANSLATORS: the audio/video offset `wav2kp prepare` estimated; positive: the sound comes late */
  return g_strdup_printf (ngettext ("offset %+d frame (confidence %.2f)", "offset %+d frames (confidence %.2f)", n),
                          c->offset_frames, c->offset_confidence);
}

static GtkWidget *
make_row (const WkpDatasetClip *c, const char *short_name)
{
  GtkWidget *row = gtk_list_box_row_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *title = gtk_label_new (short_name);
  GtkWidget *detail;
  g_autofree char *text = NULL;

  if (c->status == WKP_CLIP_OK)
    {
      g_autofree char *off = wkp_dataset_window_offset_text (c);
      g_autofree char *flags = wkp_clip_flags_to_string (c->flags);
      /* the flags first: a narrow window cuts the end of the line */
      g_autofree char *flag_text = c->flags != 0 ? g_strdup_printf ("⚑ %s · ", flags) : g_strdup ("");
      /* TRANSLATORS: flags, speaker, split, share of frames with a face, frames, offset */
      text = g_strdup_printf (_("%s%s · %s · face in %.0f%% of %lld frames · %s"), flag_text, c->speaker,
                              wkp_split_to_string (c->split), 100.0 * c->face_rate, (long long) c->n_frames, off);
    }
  else if (c->status == WKP_CLIP_FAILED)
    text = g_strdup_printf (_("%s · failed: %s"), c->speaker, c->error != NULL ? c->error : "?");
  else
    text = g_strdup_printf (_("%s · skipped: %s"), c->speaker, c->error != NULL ? c->error : "?");
  detail = gtk_label_new (text);
  gtk_label_set_xalign (GTK_LABEL (title), 0);
  gtk_label_set_xalign (GTK_LABEL (detail), 0);
  gtk_label_set_ellipsize (GTK_LABEL (title), PANGO_ELLIPSIZE_MIDDLE);
  /* the whole line, wrapped: its end (the offset) is what the window is for */
  gtk_label_set_wrap (GTK_LABEL (detail), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (detail), PANGO_WRAP_WORD_CHAR);
  gtk_widget_add_css_class (title, "heading");
  gtk_widget_add_css_class (detail, "dim-label");
  gtk_box_append (GTK_BOX (box), title);
  gtk_box_append (GTK_BOX (box), detail);
  gtk_widget_set_margin_start (box, 8);
  gtk_widget_set_margin_end (box, 8);
  gtk_widget_set_margin_top (box, 4);
  gtk_widget_set_margin_bottom (box, 4);
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  /* the full source path and the whole line, which a narrow window cuts */
  {
    g_autofree char *tip = g_strdup_printf ("%s\n%s", c->name, text);
    gtk_widget_set_tooltip_text (row, tip);
  }
  gtk_widget_set_sensitive (row, c->status == WKP_CLIP_OK);
  g_object_set_data (G_OBJECT (row), "wkp-clip-index", GINT_TO_POINTER (c->index));
  return row;
}

static gboolean
filter_row (GtkListBoxRow *row, gpointer data)
{
  WkpDatasetWindow *self = data;
  int i = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (row), "wkp-clip-index"));
  const WkpDatasetClip *c;
  if (self->ds == NULL || !gtk_check_button_get_active (self->flagged))
    return TRUE;
  c = wkp_dataset_get_clip (self->ds, i);
  return c->flags != 0 || c->status == WKP_CLIP_FAILED;
}

static void
on_flagged_toggled (GtkCheckButton *button, WkpDatasetWindow *self)
{
  gtk_list_box_invalidate_filter (self->list);
}

static void
on_row_activated (GtkListBox *list, GtkListBoxRow *row, WkpDatasetWindow *self)
{
  int i = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (row), "wkp-clip-index"));
  const WkpDatasetClip *c;
  g_autofree char *landmarks = NULL, *fps = NULL;
  if (self->ds == NULL)
    return;
  c = wkp_dataset_get_clip (self->ds, i);
  if (c->status != WKP_CLIP_OK || c->id == NULL)
    return;
  /* the landmarks `prepare` extracted (pixels of this video, NaN = no face) */
  landmarks = g_build_filename (wkp_dataset_get_dir (self->ds), "clips", c->id, "landmarks.npy", NULL);
  fps = wkp_rational_to_string (c->fps);
  g_signal_emit (self, signals[SIGNAL_OPEN_CLIP], 0, c->video_path, c->audio_path, landmarks, fps, c->speaker);
}

static void
open_in_thread (GTask *task, gpointer source, gpointer path, GCancellable *cancellable)
{
  GError *error = NULL;
  WkpDataset *ds = wkp_dataset_open (path, &error);
  if (ds == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, ds, (GDestroyNotify) wkp_dataset_free);
}

static void
on_opened (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr(GError) error = NULL;
  WkpDataset *ds = g_task_propagate_pointer (G_TASK (result), &error);
  WkpDatasetWindow *self;
  g_auto(GStrv) short_names = NULL;
  int n_ok = 0, n_flagged = 0, n_failed = 0, n;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;   /* the window is gone */
  self = WKP_DATASET_WINDOW (source);
  self->loading = FALSE;
  if (ds == NULL)
    {
      gtk_label_set_text (self->note, error->message);
      return;
    }
  self->ds = ds;
  n = wkp_dataset_n_clips (ds);
  short_names = wkp_dataset_short_names (ds);
  for (int i = 0; i < n; i++)
    {
      const WkpDatasetClip *c = wkp_dataset_get_clip (ds, i);
      gtk_list_box_append (self->list, make_row (c, short_names[i]));
      n_ok += c->status == WKP_CLIP_OK;
      n_failed += c->status == WKP_CLIP_FAILED;
      n_flagged += c->status == WKP_CLIP_OK && c->flags != 0;
    }
  {
    g_autofree char *title = g_path_get_basename (wkp_dataset_get_dir (ds));
    g_autofree char *full = g_strdup_printf (_("Dataset %s"), title);
    /* TRANSLATORS: the dataset's clip counts */
    g_autofree char *note = g_strdup_printf (_("%d clips: %d ready, %d flagged, %d failed. Click a clip to open it "
                                               "with the landmarks the dataset holds."),
                                             n, n_ok, n_flagged, n_failed);
    gtk_window_set_title (GTK_WINDOW (self), full);
    gtk_label_set_text (self->note, note);
  }
}

static void
wkp_dataset_window_dispose (GObject *object)
{
  WkpDatasetWindow *self = WKP_DATASET_WINDOW (object);
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->ds, wkp_dataset_free);
  G_OBJECT_CLASS (wkp_dataset_window_parent_class)->dispose (object);
}

static void
wkp_dataset_window_class_init (WkpDatasetWindowClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = wkp_dataset_window_dispose;
  signals[SIGNAL_OPEN_CLIP] = g_signal_new ("open-clip", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                            NULL, NULL, G_TYPE_NONE, 5, G_TYPE_STRING, G_TYPE_STRING,
                                            G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING);
}

static void
wkp_dataset_window_init (WkpDatasetWindow *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget *scroll = gtk_scrolled_window_new ();
  GtkWidget *list = gtk_list_box_new ();
  GtkWidget *note = gtk_label_new (_("Reading the dataset…"));
  GtkWidget *flagged = gtk_check_button_new_with_mnemonic (_("_Flagged and failed clips only"));

  self->cancellable = g_cancellable_new ();
  self->list = GTK_LIST_BOX (list);
  self->note = GTK_LABEL (note);
  self->flagged = GTK_CHECK_BUTTON (flagged);
  gtk_window_set_title (GTK_WINDOW (self), _("Dataset"));
  gtk_window_set_default_size (GTK_WINDOW (self), 640, 640);
  gtk_list_box_set_selection_mode (self->list, GTK_SELECTION_BROWSE);
  gtk_list_box_set_filter_func (self->list, filter_row, self, NULL);
  g_signal_connect (list, "row-activated", G_CALLBACK (on_row_activated), self);
  g_signal_connect (flagged, "toggled", G_CALLBACK (on_flagged_toggled), self);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroll), list);
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scroll), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_widget_set_vexpand (scroll, TRUE);
  gtk_label_set_xalign (self->note, 0);
  gtk_label_set_wrap (self->note, TRUE);
  gtk_widget_add_css_class (note, "dim-label");
  for (int i = 0; i < 2; i++)
    {
      GtkWidget *w = i == 0 ? flagged : note;
      gtk_widget_set_margin_start (w, 10);
      gtk_widget_set_margin_end (w, 10);
    }
  gtk_widget_set_margin_top (flagged, 6);
  gtk_widget_set_margin_bottom (note, 8);
  gtk_box_append (GTK_BOX (box), flagged);
  gtk_box_append (GTK_BOX (box), scroll);
  gtk_box_append (GTK_BOX (box), note);
  gtk_window_set_child (GTK_WINDOW (self), box);
}

WkpDatasetWindow *
wkp_dataset_window_new (GtkWindow *parent, const char *path)
{
  WkpDatasetWindow *self = g_object_new (WKP_TYPE_DATASET_WINDOW, NULL);
  g_autoptr(GTask) task = g_task_new (self, self->cancellable, on_opened, NULL);
  if (parent != NULL)
    gtk_window_set_transient_for (GTK_WINDOW (self), parent);
  self->loading = TRUE;
  g_task_set_task_data (task, g_strdup (path), g_free);
  g_task_set_return_on_cancel (task, TRUE);
  g_task_run_in_thread (task, open_in_thread);
  return self;
}

gboolean
wkp_dataset_window_is_loading (WkpDatasetWindow *self)
{
  return self->loading;
}

int
wkp_dataset_window_n_rows (WkpDatasetWindow *self)
{
  int n = 0;
  for (GtkWidget *r = gtk_widget_get_first_child (GTK_WIDGET (self->list)); r != NULL; r = gtk_widget_get_next_sibling (r))
    n += GTK_IS_LIST_BOX_ROW (r) && gtk_widget_get_child_visible (r);
  return n;
}

void
wkp_dataset_window_set_flagged_only (WkpDatasetWindow *self, gboolean flagged_only)
{
  gtk_check_button_set_active (self->flagged, flagged_only);
}

void
wkp_dataset_window_activate_row (WkpDatasetWindow *self, int index)
{
  int k = 0;
  for (GtkWidget *r = gtk_widget_get_first_child (GTK_WIDGET (self->list)); r != NULL; r = gtk_widget_get_next_sibling (r))
    if (GTK_IS_LIST_BOX_ROW (r) && gtk_widget_get_child_visible (r) && k++ == index)
      {
        g_signal_emit_by_name (self->list, "row-activated", r);
        return;
      }
}

const char *
wkp_dataset_window_get_note (WkpDatasetWindow *self)
{
  return gtk_label_get_text (self->note);
}
