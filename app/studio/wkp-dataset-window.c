#include "wkp-dataset-window.h"

#include <glib/gi18n.h>

#include "wkp-dataset.h"
#include "wkp-studio-ui.h"
#include "wkp-evaluate.h"
#include "wkp-time.h"

/* Per-clip scores of the models in use (Score Clips), computed by the code of
 * `wav2kp evaluate`, one evaluation per split. */
#define N_SCORED 2   /* the model and the compared model */
typedef struct {
  char     *dir;                     /* the dataset, opened again on the worker */
  char     *paths[N_SCORED];         /* NULL: none */
  int       n_paths;
  gint      done, total;             /* atomic: clips scored / to score */
  /* results, [dataset clip index] */
  int       n_clips;
  double   *r[N_SCORED];             /* aperture r at lag 0, NaN = not scored */
  double   *motion[N_SCORED];        /* aperture motion (SD ratio) */
  gboolean *seen[N_SCORED];          /* the model was trained on the clip's speaker */
  WkpTimingOpinion *timing;          /* the model's opinion of each clip's timing (as check --model) */
  GString  *summary;                 /* pooled r by split, per model */
} Scores;

struct _WkpDatasetWindow {
  GtkWindow     parent_instance;
  GtkListBox   *list;
  GtkLabel     *note;
  GtkCheckButton *flagged;
  GtkCheckButton *corrected;          /* open clips with their estimated offset corrected */
  GtkButton    *score_button;
  GtkDropDown  *order;
  GCancellable *cancellable;
  GCancellable *score_cancellable;   /* while scoring */
  guint         score_timer;
  Scores       *scoring;             /* shared with the worker while it runs */
  Scores       *scores;              /* the last completed scores */
  char         *summary;             /* the clip counts line */
  WkpDataset   *ds;
  gboolean      loading;
};

G_DEFINE_FINAL_TYPE (WkpDatasetWindow, wkp_dataset_window, GTK_TYPE_WINDOW)

enum { SIGNAL_OPEN_CLIP, SIGNAL_SCORE_REQUESTED, N_SIGNALS };
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
  /* (no estimate: "confidence nan" said nothing) */
  if (!isfinite (c->offset_confidence))
    return g_strdup (_("offset not estimated"));
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
      g_autofree char *flag_names = wkp_clip_flags_to_string (c->flags);
      g_auto(GStrv) flag_list = g_strsplit (flag_names, ",", -1);
      g_autofree char *flags = g_strjoinv (", ", flag_list);
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
  {
    GtkWidget *score = gtk_label_new (NULL);
    gtk_label_set_xalign (GTK_LABEL (score), 0);
    gtk_label_set_wrap (GTK_LABEL (score), TRUE);
    gtk_widget_set_visible (score, FALSE);
    gtk_box_append (GTK_BOX (box), score);
    g_object_set_data (G_OBJECT (row), "wkp-score-label", score);
  }
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

static GtkListBoxRow *shown_row (WkpDatasetWindow *self, int index);

/* --- scores ------------------------------------------------------------------------- */

static void
scores_clear (gpointer data)
{
  Scores *sc = data;
  g_free (sc->dir);
  for (int m = 0; m < N_SCORED; m++)
    {
      g_free (sc->paths[m]);
      g_free (sc->r[m]);
      g_free (sc->motion[m]);
      g_free (sc->seen[m]);
    }
  g_free (sc->timing);
  if (sc->summary != NULL)
    g_string_free (sc->summary, TRUE);
}

/* shared by the worker's task, the running job and the last result */
static void
scores_unref (Scores *sc)
{
  g_atomic_rc_box_release_full (sc, scores_clear);
}

/* the third order, offered while the scores include a compared model */
#define ORDER_GAIN N_("Largest compared gain first")

/* the sort keys: NaN (not scored) last */
static double
row_score (WkpDatasetWindow *self, GtkListBoxRow *row, int order)
{
  int i = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (row), "wkp-clip-index"));
  const Scores *sc = self->scores;
  if (sc == NULL || i < 0 || i >= sc->n_clips)
    return NAN;
  if (order == 1)
    return sc->r[0][i];
  if (order == 2 && sc->n_paths > 1)
    return -(sc->r[1][i] - sc->r[0][i]);   /* the compared model's largest gain first */
  return NAN;
}

static int
sort_rows (GtkListBoxRow *a, GtkListBoxRow *b, gpointer data)
{
  WkpDatasetWindow *self = data;
  int order = (int) gtk_drop_down_get_selected (self->order);
  int ia = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (a), "wkp-clip-index"));
  int ib = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (b), "wkp-clip-index"));
  if (order != 0)
    {
      double ka = row_score (self, a, order), kb = row_score (self, b, order);
      if (isfinite (ka) != isfinite (kb))
        return isfinite (ka) ? -1 : 1;
      if (isfinite (ka) && ka != kb)
        return ka < kb ? -1 : 1;
    }
  return ia < ib ? -1 : ia > ib;
}

static void
on_order_changed (GObject *object, GParamSpec *pspec, WkpDatasetWindow *self)
{
  gtk_list_box_invalidate_sort (self->list);
}

char *
wkp_dataset_window_score_text (double r, double motion, double r_compared, gboolean seen, const char *timing,
                               gboolean compared_seen, gboolean has_compared)
{
  g_autoptr(GString) s = g_string_new (NULL);
  if (isfinite (r))
    /* TRANSLATORS: a clip's inner-lip aperture correlation with the model's prediction */
    g_string_append_printf (s, _("aperture r %.2f"), r);
  else
    g_string_append (s, _("aperture r undefined"));
  if (isfinite (motion))
    /* TRANSLATORS: the predicted aperture's standard deviation over the extracted one's */
    g_string_append_printf (s, _(", motion %.2f×"), motion);
  if (seen)
    /* TRANSLATORS: after the model's numbers (which model is said: after the
     * compared model's numbers it read as that model's) */
    g_string_append (s, _(" (the model was trained on this speaker)"));
  /* (the model's timing right after its own numbers: after the compared
   * model's it read as that model's; studio QA) */
  if (timing != NULL)
    g_string_append (s, timing);
  if (has_compared)
    {
      if (isfinite (r_compared))
        /* TRANSLATORS: the compared model's r on the clip, and its difference from the model's */
        g_string_append_printf (s, isfinite (r) ? _(" · compared %.2f (%+.2f)") : _(" · compared %.2f"), r_compared,
                                r_compared - r);
      else
        g_string_append (s, _(" · compared undefined"));
      if (compared_seen)
        g_string_append (s, _(" (the compared model was trained on this speaker)"));
    }
  return g_string_free (g_steal_pointer (&s), FALSE);
}

char *
wkp_dataset_window_timing_text (const WkpTimingOpinion *o, gboolean disputes, gboolean agrees, int offset)
{
  g_autoptr(GString) s = g_string_new (NULL);
  if (o == NULL || !o->known)
    return g_string_free (g_steal_pointer (&s), FALSE);
  /* a lag of a frame is within a model's own wander between clips: not said
   * unless it matters (a flagged offset) */
  if (ABS (o->lag) < 2 && !disputes && !agrees)
    return g_string_free (g_steal_pointer (&s), FALSE);
  if (o->lag > 0)
    /* TRANSLATORS: after a clip's scores: the shift of the sound (video frames) at which the model's
     * predicted mouth fits the landmarks best, and the correlation there */
    g_string_append_printf (s, ngettext (" · fits best with the sound %d frame late (r %.2f)",
                                         " · fits best with the sound %d frames late (r %.2f)", o->lag),
                            o->lag, o->r_lag);
  else if (o->lag < 0)
    /* TRANSLATORS: as "fits best with the sound %d frames late", the other way */
    g_string_append_printf (s, ngettext (" · fits best with the sound %d frame early (r %.2f)",
                                         " · fits best with the sound %d frames early (r %.2f)", -o->lag),
                            -o->lag, o->r_lag);
  if (disputes)
    /* TRANSLATORS: the model's own best lag is far from the offset the dataset check estimated from the sound's
     * energy, and fits clearly better */
    g_string_append_printf (s, _(" · the model disputes the estimated offset %+d"), offset);
  else if (agrees)
    /* TRANSLATORS: the model's own best lag is within a frame of the offset the dataset check estimated */
    g_string_append_printf (s, _(" · the model agrees with the estimated offset %+d"), offset);
  return g_string_free (g_steal_pointer (&s), FALSE);
}

static void
show_scores (WkpDatasetWindow *self)
{
  const Scores *sc = self->scores;
  for (GtkWidget *r = gtk_widget_get_first_child (GTK_WIDGET (self->list)); r != NULL; r = gtk_widget_get_next_sibling (r))
    {
      GtkWidget *label = g_object_get_data (G_OBJECT (r), "wkp-score-label");
      int i = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (r), "wkp-clip-index"));
      g_autofree char *text = NULL;
      if (label == NULL || sc == NULL || i < 0 || i >= sc->n_clips || wkp_dataset_get_clip (self->ds, i)->status != WKP_CLIP_OK)
        continue;
      {
        const WkpDatasetClip *c = wkp_dataset_get_clip (self->ds, i);
        g_autofree char *timing = wkp_dataset_window_timing_text (&sc->timing[i], wkp_timing_disputes (c, &sc->timing[i]),
                                                                  wkp_timing_agrees (c, &sc->timing[i]),
                                                                  c->offset_frames - c->offset_applied);
        text = wkp_dataset_window_score_text (sc->r[0][i], sc->motion[0][i], sc->n_paths > 1 ? sc->r[1][i] : NAN,
                                              sc->seen[0][i], timing, sc->n_paths > 1 && sc->seen[1][i],
                                              sc->n_paths > 1);
      }
      gtk_label_set_text (GTK_LABEL (label), text);
      gtk_widget_set_visible (label, TRUE);
    }
  gtk_widget_set_sensitive (GTK_WIDGET (self->order), sc != NULL);
  {
    /* "largest gain of the compared model" only when there is one to compare */
    GtkStringList *orders = GTK_STRING_LIST (gtk_drop_down_get_model (self->order));
    const gboolean compared = sc != NULL && sc->n_paths > 1;
    const guint n_orders = g_list_model_get_n_items (G_LIST_MODEL (orders));
    if (!compared && n_orders == 3)
      {
        if (gtk_drop_down_get_selected (self->order) == 2)
          gtk_drop_down_set_selected (self->order, 1);
        gtk_string_list_remove (orders, 2);
      }
    else if (compared && n_orders == 2)
      gtk_string_list_append (orders, _(ORDER_GAIN));
  }
  gtk_list_box_invalidate_sort (self->list);
}

static void
score_progress (gint64 done, gint64 total, const char *what, gpointer data)
{
  Scores *sc = data;
  g_atomic_int_inc (&sc->done);
}

static void
score_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  Scores *sc = data;
  static const WkpSplit splits[] = { WKP_SPLIT_TEST, WKP_SPLIT_VAL, WKP_SPLIT_TRAIN };
  g_autoptr(WkpDataset) ds = NULL;
  GError *error = NULL;
  WkpEvalParams params;
  int per_split[G_N_ELEMENTS (splits)] = { 0 }, total = 0, max_lag;

  ds = wkp_dataset_open (sc->dir, &error);
  if (ds == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  sc->n_clips = wkp_dataset_n_clips (ds);
  sc->timing = g_new0 (WkpTimingOpinion, MAX (sc->n_clips, 1));
  max_lag = wkp_timing_max_lag (ds);
  for (int m = 0; m < N_SCORED; m++)
    {
      sc->r[m] = g_new (double, MAX (sc->n_clips, 1));
      sc->motion[m] = g_new (double, MAX (sc->n_clips, 1));
      sc->seen[m] = g_new0 (gboolean, MAX (sc->n_clips, 1));
      for (int i = 0; i < sc->n_clips; i++)
        sc->r[m][i] = sc->motion[m][i] = NAN;
    }
  for (int i = 0; i < sc->n_clips; i++)
    {
      const WkpDatasetClip *c = wkp_dataset_get_clip (ds, i);
      if (c->status != WKP_CLIP_OK)
        continue;
      for (guint k = 0; k < G_N_ELEMENTS (splits); k++)
        if (c->split == splits[k])
          per_split[k]++, total++;
    }
  g_atomic_int_set (&sc->total, total);
  wkp_eval_params_init_default (&params);
  params.baselines = FALSE;
  params.bootstrap = 0;
  params.n_threads = 1;   /* the window stays responsive on a 2-core machine */
  sc->summary = g_string_new (NULL);
  for (int m = 0; m < sc->n_paths; m++)
    {
      g_autofree char *base = g_path_get_basename (sc->paths[m]);
      g_string_append_printf (sc->summary, "%s%s:", m > 0 ? "\n" : "", base);
    }
  for (guint k = 0; k < G_N_ELEMENTS (splits); k++)
    {
      g_autoptr(WkpEvaluation) ev = NULL;
      if (per_split[k] == 0)
        continue;
      ev = wkp_evaluate (ds, splits[k], (const char * const *) sc->paths, sc->n_paths, &params, score_progress, sc,
                         cancellable, &error);
      if (ev == NULL)
        {
          g_task_return_error (task, error);
          return;
        }
      for (int m = 0; m < sc->n_paths && m < ev->n_entries; m++)
        {
          const WkpEvalEntry *e = &ev->entries[m];
          if (e->problem != NULL)
            {
              g_set_error (&error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", e->problem);
              g_task_return_error (task, error);
              return;
            }
          for (int c = 0; c < ev->n_clips; c++)
            {
              int i = ev->clip_index[c];
              const WkpDatasetClip *clip = wkp_dataset_get_clip (ds, i);
              if (m == 0 && e->aperture[c] != NULL)
                wkp_timing_opinion (ev->ref_aperture[c], e->aperture[c], ev->clip_frames[c], max_lag,
                                    clip->offset_frames - clip->offset_applied, &sc->timing[i]);
              sc->r[m][i] = e->clips[c].aperture_r;
              sc->motion[m][i] = e->clips[c].aperture_motion;
              sc->seen[m][i] = e->trained_on != NULL
                               && g_strv_contains ((const char * const *) e->trained_on, ev->clip_speaker[c]);
            }
        }
      /* the pooled r per split, on the summary's line of each model */
      {
        g_auto(GStrv) lines = g_strsplit (sc->summary->str, "\n", -1);
        g_string_truncate (sc->summary, 0);
        for (int m = 0; lines[m] != NULL; m++)
          {
            double r = m < ev->n_entries ? ev->entries[m].pooled.aperture_r : NAN;
            int n_seen = 0;
            for (int c = 0; c < ev->n_clips && m < sc->n_paths; c++)
              n_seen += sc->seen[m][ev->clip_index[c]];
            g_string_append_printf (sc->summary, "%s%s%s %s %.3f", m > 0 ? "\n" : "", lines[m],
                                    g_str_has_suffix (lines[m], ":") ? "" : ",", wkp_split_to_string (splits[k]), r);
            if (n_seen > 0)
              /* TRANSLATORS: after a split's pooled r: how many of its clips are of speakers the model was
               * trained on (not held out) */
              g_string_append_printf (sc->summary, _(" (%d of %d clips' speakers seen in training)"), n_seen,
                                      ev->n_clips);
          }
      }
    }
  g_task_return_boolean (task, TRUE);
}

static void
score_finish (WkpDatasetWindow *self)
{
  g_clear_handle_id (&self->score_timer, g_source_remove);
  g_clear_object (&self->score_cancellable);
  gtk_button_set_label (self->score_button, _("_Score Clips with the Models"));
}

static void
on_scored (GObject *source, GAsyncResult *result, gpointer data)
{
  WkpDatasetWindow *self = WKP_DATASET_WINDOW (source);
  Scores *sc = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;
  gboolean ok = g_task_propagate_boolean (G_TASK (result), &error);

  if (self->scoring != sc)
    return;   /* the window is closing */
  g_clear_pointer (&self->scoring, scores_unref);
  score_finish (self);
  if (!ok)
    {
      g_autofree char *text = g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
                              ? g_strdup_printf ("%s %s", self->summary, _("Scoring cancelled."))
                              : g_strdup_printf (_("%s Scoring failed: %s"), self->summary, error->message);
      gtk_label_set_text (self->note, text);
      return;
    }
  g_clear_pointer (&self->scores, scores_unref);
  self->scores = g_atomic_rc_box_acquire (sc);
  show_scores (self);
  {
    /* TRANSLATORS: after scoring: the pooled aperture r per split of each model */
    g_autofree char *text = g_strdup_printf (_("%s\nPooled aperture r at lag 0 by split (as wav2kp evaluate):\n%s"),
                                             self->summary, self->scores->summary->str);
    gtk_label_set_text (self->note, text);
  }
}

static gboolean
on_score_tick (gpointer data)
{
  WkpDatasetWindow *self = data;
  g_autofree char *text = NULL;
  if (self->scoring == NULL)
    return G_SOURCE_CONTINUE;
  /* TRANSLATORS: progress of scoring the dataset's clips */
  text = g_strdup_printf (_("Scoring clip %d of %d…"), g_atomic_int_get (&self->scoring->done),
                          g_atomic_int_get (&self->scoring->total));
  gtk_label_set_text (self->note, text);
  return G_SOURCE_CONTINUE;
}

gboolean
wkp_dataset_window_score (WkpDatasetWindow *self, const char *model, const char *compare)
{
  g_autoptr(GTask) task = NULL;
  Scores *sc;

  g_return_val_if_fail (WKP_IS_DATASET_WINDOW (self), FALSE);
  if (self->ds == NULL || self->scoring != NULL)
    return FALSE;
  if (model == NULL)
    {
      gtk_label_set_text (self->note, _("No model to score the clips with: open one with --model, or install the "
                                        "default model."));
      return FALSE;
    }
  sc = g_atomic_rc_box_new0 (Scores);
  sc->dir = g_strdup (wkp_dataset_get_dir (self->ds));
  sc->paths[sc->n_paths++] = g_strdup (model);
  if (compare != NULL)
    sc->paths[sc->n_paths++] = g_strdup (compare);
  self->scoring = sc;
  self->score_cancellable = g_cancellable_new ();
  task = g_task_new (self, self->score_cancellable, on_scored, NULL);
  g_task_set_task_data (task, g_atomic_rc_box_acquire (sc), (GDestroyNotify) scores_unref);
  g_task_set_name (task, "[wkp] score dataset clips");
  g_task_run_in_thread (task, score_thread);
  gtk_button_set_label (self->score_button, _("_Cancel Scoring"));
  self->score_timer = g_timeout_add (200, on_score_tick, self);
  on_score_tick (self);
  return TRUE;
}

gboolean
wkp_dataset_window_is_scoring (WkpDatasetWindow *self)
{
  return self->scoring != NULL;
}

static void
on_score_clicked (GtkButton *button, WkpDatasetWindow *self)
{
  if (self->scoring != NULL)
    {
      g_cancellable_cancel (self->score_cancellable);
      return;
    }
  g_signal_emit (self, signals[SIGNAL_SCORE_REQUESTED], 0);
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
  /* with the sound where the dataset has it (prepare --fix-offset, or the
   * source's audio_late), or, asked to, where an estimate check flags puts
   * it (an unsure or weak one is not applied, as the Estimate button does
   * not offer it; a correction the dataset applied is kept) */
  {
    /* nor one the model disputes, once scored (RD_Radio2 opened at +8 with
     * the row saying the model disputes it, its r 0.44 -> 0.03; studio QA) */
    gboolean disputed = self->scores != NULL && self->scores->timing != NULL && i < self->scores->n_clips
                        && wkp_timing_disputes (c, &self->scores->timing[i]);
    g_signal_emit (self, signals[SIGNAL_OPEN_CLIP], 0, c->video_path, c->audio_path, landmarks, fps, c->speaker,
                   gtk_check_button_get_active (self->corrected) && c->offset_applied == 0
                   && (c->flags & WKP_CLIP_FLAG_OFFSET) && !disputed ? c->offset_frames : c->offset_applied);
  }
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
  int n_ok = 0, n_flagged = 0, n_failed = 0, n_skipped = 0, n;

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
      n_skipped += c->status == WKP_CLIP_SKIPPED;
      n_flagged += c->status == WKP_CLIP_OK && c->flags != 0;
    }
  {
    g_autofree char *title = g_path_get_basename (wkp_dataset_get_dir (ds));
    g_autofree char *full = g_strdup_printf (_("Dataset %s"), title);
    /* TRANSLATORS: the dataset's clip counts; skipped: rows with no video
     * (audio only), which the dataset lists but does not train on */
    g_autofree char *note = g_strdup_printf (_("%d clips: %d ready, %d flagged, %d failed, %d skipped (audio only). "
                                               "Click a clip to open it with the landmarks the dataset holds."),
                                             n, n_ok, n_flagged, n_failed, n_skipped);
    gtk_window_set_title (GTK_WINDOW (self), full);
    gtk_label_set_text (self->note, note);
    g_free (self->summary);
    self->summary = g_steal_pointer (&note);
  }
  gtk_widget_set_sensitive (GTK_WIDGET (self->score_button), n_ok > 0);
}

static void
wkp_dataset_window_dispose (GObject *object)
{
  WkpDatasetWindow *self = WKP_DATASET_WINDOW (object);
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->score_cancellable != NULL)
    g_cancellable_cancel (self->score_cancellable);
  g_clear_object (&self->score_cancellable);
  g_clear_handle_id (&self->score_timer, g_source_remove);
  g_clear_pointer (&self->scoring, scores_unref);
  g_clear_pointer (&self->scores, scores_unref);
  g_clear_pointer (&self->summary, g_free);
  g_clear_pointer (&self->ds, wkp_dataset_free);
  G_OBJECT_CLASS (wkp_dataset_window_parent_class)->dispose (object);
}

static void
wkp_dataset_window_class_init (WkpDatasetWindowClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = wkp_dataset_window_dispose;
  signals[SIGNAL_OPEN_CLIP] = g_signal_new ("open-clip", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                            NULL, NULL, G_TYPE_NONE, 6, G_TYPE_STRING, G_TYPE_STRING,
                                            G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_INT);
  signals[SIGNAL_SCORE_REQUESTED] = g_signal_new ("score-requested", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
wkp_dataset_window_init (WkpDatasetWindow *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget *scroll = gtk_scrolled_window_new ();
  GtkWidget *list = gtk_list_box_new ();
  GtkWidget *note = gtk_label_new (_("Reading the dataset…"));
  GtkWidget *flagged = gtk_check_button_new_with_mnemonic (_("_Flagged and failed clips only"));
  GtkWidget *bar = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
  GtkWidget *corrected = gtk_check_button_new_with_mnemonic (_("Open clips with their estimated _offset corrected"));
  GtkWidget *score = gtk_button_new_with_mnemonic (_("_Score Clips with the Models"));
  const char *orders[] = { N_("Dataset order"), N_("Lowest r first"), ORDER_GAIN, NULL };
  const char *translated[G_N_ELEMENTS (orders)] = { NULL };
  GtkWidget *order;

  for (guint i = 0; orders[i] != NULL; i++)
    translated[i] = _(orders[i]);
  order = gtk_drop_down_new_from_strings (translated);
  wkp_studio_fit_drop_down (GTK_DROP_DOWN (order));

  self->cancellable = g_cancellable_new ();
  wkp_studio_add_close_keys (GTK_WINDOW (self));
  self->list = GTK_LIST_BOX (list);
  self->note = GTK_LABEL (note);
  self->flagged = GTK_CHECK_BUTTON (flagged);
  self->corrected = GTK_CHECK_BUTTON (corrected);
  gtk_widget_set_tooltip_text (corrected, _("A clip opens with Sound late by set to the audio/video offset prepare "
                                            "estimated for it, so that the estimate can be judged in the picture, "
                                            "the spectrogram and the aperture's numbers (not one the model "
                                            "disputes, once the clips are scored); off, as the dataset has "
                                            "it (moved only by prepare --fix-offset)"));
  self->score_button = GTK_BUTTON (score);
  self->order = GTK_DROP_DOWN (order);
  gtk_widget_set_tooltip_text (score, _("Each clip's inner-lip aperture r with the model and the compared model in "
                                        "use, computed as wav2kp evaluate does, on a worker thread"));
  gtk_widget_set_tooltip_text (order, _("Order of the clips once scored"));
  gtk_widget_set_sensitive (score, FALSE);
  gtk_widget_set_sensitive (order, FALSE);
  g_signal_connect (score, "clicked", G_CALLBACK (on_score_clicked), self);
  g_signal_connect (order, "notify::selected", G_CALLBACK (on_order_changed), self);
  gtk_list_box_set_sort_func (self->list, sort_rows, self, NULL);
  gtk_window_set_title (GTK_WINDOW (self), _("Dataset"));
  /* a title bar with its close button even without a window manager, as
   * Training Curves has; the window's action in it */
  {
    GtkWidget *header = gtk_header_bar_new ();
    gtk_header_bar_pack_start (GTK_HEADER_BAR (header), score);
    gtk_window_set_titlebar (GTK_WINDOW (self), header);
  }
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
  gtk_widget_set_margin_start (note, 10);
  gtk_widget_set_margin_end (note, 10);
  gtk_widget_set_margin_top (bar, 6);
  gtk_widget_set_margin_start (bar, 10);
  gtk_widget_set_margin_end (bar, 10);
  gtk_widget_set_margin_bottom (note, 8);
  gtk_widget_set_hexpand (flagged, TRUE);
  gtk_box_append (GTK_BOX (bar), flagged);
  gtk_box_append (GTK_BOX (bar), order);
  gtk_box_append (GTK_BOX (box), bar);
  gtk_widget_set_margin_start (corrected, 10);
  gtk_widget_set_margin_end (corrected, 10);
  gtk_box_append (GTK_BOX (box), corrected);
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

void
wkp_dataset_window_set_open_corrected (WkpDatasetWindow *self, gboolean corrected)
{
  gtk_check_button_set_active (self->corrected, corrected);
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
  GtkListBoxRow *row = shown_row (self, index);
  if (row != NULL)
    g_signal_emit_by_name (self->list, "row-activated", row);
}

const char *
wkp_dataset_window_get_note (WkpDatasetWindow *self)
{
  return gtk_label_get_text (self->note);
}

static GtkListBoxRow *
shown_row (WkpDatasetWindow *self, int index)
{
  int k = 0;
  for (GtkWidget *r = gtk_widget_get_first_child (GTK_WIDGET (self->list)); r != NULL; r = gtk_widget_get_next_sibling (r))
    if (GTK_IS_LIST_BOX_ROW (r) && gtk_widget_get_child_visible (r) && k++ == index)
      return GTK_LIST_BOX_ROW (r);
  return NULL;
}

int
wkp_dataset_window_row_clip (WkpDatasetWindow *self, int index)
{
  GtkListBoxRow *row = shown_row (self, index);
  return row != NULL ? GPOINTER_TO_INT (g_object_get_data (G_OBJECT (row), "wkp-clip-index")) : -1;
}

const char *
wkp_dataset_window_row_score (WkpDatasetWindow *self, int index)
{
  GtkListBoxRow *row = shown_row (self, index);
  GtkWidget *label = row != NULL ? g_object_get_data (G_OBJECT (row), "wkp-score-label") : NULL;
  return label != NULL && gtk_widget_get_visible (label) ? gtk_label_get_text (GTK_LABEL (label)) : NULL;
}

int
wkp_dataset_window_n_orders (WkpDatasetWindow *self)
{
  return (int) g_list_model_get_n_items (gtk_drop_down_get_model (self->order));
}

void
wkp_dataset_window_set_order (WkpDatasetWindow *self, int order)
{
  gtk_drop_down_set_selected (self->order, (guint) order);
}

void
wkp_dataset_window_click_score (WkpDatasetWindow *self)
{
  g_signal_emit_by_name (self->score_button, "clicked");
}
