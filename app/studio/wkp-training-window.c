#include "wkp-training-window.h"

#include <glib/gi18n.h>
#include <math.h>

#include "wkp-io.h"
#include "wkp-studio-ui.h"
#include "wkp-model.h"
#include "wkp-train-log.h"

/* what a worker thread read from one file */
typedef struct
{
  GPtrArray *logs;   /* WkpTrainLog */
  char      *note;   /* one line: what it holds, or why nothing */
} Loaded;

typedef struct
{
  char      *path;
  int        group;
  Loaded    *loaded;   /* NULL while it is read */
} Source;

struct _WkpTrainingWindow
{
  GtkWindow        parent_instance;
  WkpTrainingPlot *plot;
  GtkLabel        *note;
  GPtrArray       *sources;   /* Source, in the order added */
  GCancellable    *cancellable;
  int              loading;
  int              next_group;
};

G_DEFINE_FINAL_TYPE (WkpTrainingWindow, wkp_training_window, GTK_TYPE_WINDOW)

static void
loaded_free (gpointer data)
{
  Loaded *l = data;
  g_clear_pointer (&l->logs, g_ptr_array_unref);
  g_free (l->note);
  g_free (l);
}

static Loaded *
loaded_new (GPtrArray *logs, char *note)
{
  Loaded *l = g_new (Loaded, 1);
  l->logs = logs;
  l->note = note;
  return l;
}

static void
source_free (gpointer data)
{
  Source *s = data;
  g_free (s->path);
  g_clear_pointer (&s->loaded, loaded_free);
  g_free (s);
}

static char *
kept_epochs (GPtrArray *logs)
{
  GString *s = g_string_new (NULL);
  for (guint i = 0; i < logs->len; i++)
    g_string_append_printf (s, "%s%d", i > 0 ? ", " : "", ((WkpTrainLog *) g_ptr_array_index (logs, i))->best_epoch);
  return g_string_free (s, FALSE);
}

/* How many of @logs carry the validation loss of a constant prediction (the
 * dashed level). */
static guint
count_constants (GPtrArray *logs)
{
  guint n = 0;
  for (guint i = 0; i < logs->len; i++)
    n += isfinite (((WkpTrainLog *) g_ptr_array_index (logs, i))->val_loss_constant);
  return n;
}

/* The note says when a history has no constant-prediction level to draw
 * (the default model's curves lacked the dashed line with no word why: it
 * was trained before models recorded the level, and no number is made up
 * for it). @from_csv: the logs are training logs, which have no column for
 * it. */
static char *
note_constant (char *note, GPtrArray *logs, gboolean from_csv)
{
  guint with = count_constants (logs);
  char *more;
  if (logs->len == 0 || with == logs->len)
    return note;
  if (from_csv)
    more = g_strdup_printf (_("%s; no dashed constant-prediction level: training logs do not record it"), note);
  else if (with == 0)
    more = g_strdup_printf (_("%s; no dashed constant-prediction level: trained before models recorded it"), note);
  else
    /* TRANSLATORS: the note so far, then how many of an ensemble's networks lack the level */
    more = g_strdup_printf (ngettext ("%s; %u of its %u networks has no dashed constant-prediction level: trained "
                                      "before models recorded it",
                                      "%s; %u of its %u networks have no dashed constant-prediction level: trained "
                                      "before models recorded it", logs->len - with),
                            note, logs->len - with, logs->len);
  g_free (note);
  return more;
}

/* worker thread: reads the file named by the task data, returns a Loaded */
static void
load_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  const char *path = data;
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *lower = g_ascii_strdown (path, -1);
  g_autoptr(GPtrArray) logs = g_ptr_array_new_with_free_func ((GDestroyNotify) wkp_train_log_free);
  char *note = NULL;
  GError *error = NULL;

  (void) source;
  if (g_str_has_suffix (lower, ".csv"))
    {
      WkpTrainLog *log = wkp_train_log_load (path, &error);
      if (log == NULL)
        {
          g_task_return_error (task, error);
          return;
        }
      g_free (log->name);
      log->name = g_strdup (base);
      g_ptr_array_add (logs, log);
      note = g_strdup_printf (_("%s: training log, %d epochs, kept epoch %d"), base, log->n, log->best_epoch);
      note = note_constant (note, logs, TRUE);
    }
  else
    {
      g_autoptr(WkpModel) model = wkp_model_load (path, &error);
      if (model == NULL)
        {
          g_task_return_error (task, error);
          return;
        }
      g_ptr_array_unref (logs);
      logs = wkp_model_train_logs (model, base);
      if (logs->len > 0)
        {
          g_autofree char *kept = kept_epochs (logs);
          note = logs->len == 1
                     ? g_strdup_printf (_("%s: history stored in the model, kept epoch %s"), base, kept)
                     : g_strdup_printf (_("%s: %u networks, histories stored in the model, kept epochs %s"),
                                        base, logs->len, kept);   /* the curves shown, one per history */
          note = note_constant (note, logs, FALSE);
        }
      else
        {
          /* no history inside (a converted model, or one trained before
           * wav2kp stored it): the log `wav2kp train` wrote beside it */
          g_autofree char *dir = g_path_get_dirname (path);
          g_autofree char *stem = g_strndup (base, strrchr (base, '.') != NULL ? (gsize) (strrchr (base, '.') - base)
                                                                               : strlen (base));
          g_autofree char *csv_name = g_strconcat (stem, ".csv", NULL);
          g_autofree char *csv = g_build_filename (dir, csv_name, NULL);
          g_autoptr(GError) csv_error = NULL;
          WkpTrainLog *log = g_file_test (csv, G_FILE_TEST_IS_REGULAR) ? wkp_train_log_load (csv, &csv_error) : NULL;
          if (csv_error != NULL)
            note = g_strdup_printf (_("%s: no history in the model, and its log cannot be read: %s"), base,
                                    csv_error->message);
          else if (log != NULL)
            {
              g_free (log->name);
              log->name = g_strdup (base);
              g_ptr_array_add (logs, log);
              note = g_strdup_printf (_("%s: no history in the model; its log %s, kept epoch %d"), base,
                                      csv_name, log->best_epoch);
              note = note_constant (note, logs, TRUE);
            }
          else
            note = g_strdup_printf (_("%s: no training history (a converted model, or trained before "
                                      "models stored it) and no %s beside it"),
                                    base, csv_name);
        }
    }
  g_task_return_pointer (task, loaded_new (g_steal_pointer (&logs), note), loaded_free);
}

static void
refresh (WkpTrainingWindow *self)
{
  g_autoptr(GString) note = g_string_new (NULL);
  wkp_training_plot_clear (self->plot);
  for (guint i = 0; i < self->sources->len; i++)
    {
      Source *s = g_ptr_array_index (self->sources, i);
      g_autofree char *base = g_path_get_basename (s->path);
      if (note->len > 0)
        g_string_append_c (note, '\n');
      if (s->loaded == NULL)
        {
          g_string_append_printf (note, _("%s: reading…"), base);
          continue;
        }
      g_string_append (note, s->loaded->note);
      for (guint k = 0; k < s->loaded->logs->len; k++)
        {
          const WkpTrainLog *log = g_ptr_array_index (s->loaded->logs, k);
          wkp_training_plot_add_run (self->plot, log->name, s->group, log->n, log->epoch, log->train_loss,
                                     log->val_loss, log->val_r, log->best_epoch);
          wkp_training_plot_set_run_constant (self->plot, wkp_training_plot_get_n_runs (self->plot) - 1,
                                              log->val_loss_constant);
        }
    }
  gtk_label_set_text (self->note, note->str);
}

static void
load_done (GObject *object, GAsyncResult *result, gpointer user_data)
{
  Source *s = user_data;
  g_autoptr(GError) error = NULL;
  Loaded *loaded = g_task_propagate_pointer (G_TASK (result), &error);
  WkpTrainingWindow *self;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;   /* the window is being destroyed */
  self = WKP_TRAINING_WINDOW (object);
  self->loading--;
  /* an error names the file and the problem */
  s->loaded = loaded != NULL ? loaded
                             : loaded_new (g_ptr_array_new_with_free_func ((GDestroyNotify) wkp_train_log_free),
                                           g_strdup (error->message));
  refresh (self);
}

void
wkp_training_window_add (WkpTrainingWindow *self, const char *path, int group)
{
  Source *s;
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (WKP_IS_TRAINING_WINDOW (self));
  g_return_if_fail (path != NULL && group >= 0);
  /* a file already shown is not shown twice (a second legend row, the same curves) */
  for (guint i = 0; i < self->sources->len; i++)
    if (wkp_path_same_file (((Source *) g_ptr_array_index (self->sources, i))->path, path))
      return;
  s = g_new0 (Source, 1);
  s->path = g_strdup (path);
  s->group = group;
  g_ptr_array_add (self->sources, s);
  self->next_group = MAX (self->next_group, group + 1);
  task = g_task_new (self, self->cancellable, load_done, s);
  g_task_set_task_data (task, g_strdup (path), g_free);
  g_task_set_name (task, "[wkp] training history");
  self->loading++;
  g_task_run_in_thread (task, load_thread);
  refresh (self);
}

static void
on_add_response (GtkNativeDialog *dialog, int response, WkpTrainingWindow *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = file != NULL ? g_file_get_path (file) : NULL;
      if (path != NULL)
        wkp_training_window_add (self, path, MAX (self->next_group, 2));
    }
  g_object_unref (dialog);
}

static void
on_add_clicked (GtkButton *button, WkpTrainingWindow *self)
{
  GtkFileChooserNative *dialog =
      gtk_file_chooser_native_new (_("Add a Training Log or Model"), GTK_WINDOW (self), GTK_FILE_CHOOSER_ACTION_OPEN,
                                   _("_Add"), _("_Cancel"));
  GtkFileFilter *filter = gtk_file_filter_new ();
  gtk_file_filter_set_name (filter, _("Training logs and models"));
  gtk_file_filter_add_pattern (filter, "*.csv");
  gtk_file_filter_add_pattern (filter, "*.wkpm");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (dialog), filter);
  g_object_unref (filter);
  g_signal_connect (dialog, "response", G_CALLBACK (on_add_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

static void
wkp_training_window_dispose (GObject *object)
{
  WkpTrainingWindow *self = WKP_TRAINING_WINDOW (object);
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  G_OBJECT_CLASS (wkp_training_window_parent_class)->dispose (object);
}

static void
wkp_training_window_finalize (GObject *object)
{
  /* the tasks hold the window until they are done: nothing refers to the
   * sources any more */
  g_ptr_array_unref (WKP_TRAINING_WINDOW (object)->sources);
  G_OBJECT_CLASS (wkp_training_window_parent_class)->finalize (object);
}

static void
wkp_training_window_class_init (WkpTrainingWindowClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = wkp_training_window_dispose;
  G_OBJECT_CLASS (klass)->finalize = wkp_training_window_finalize;
}

static void
wkp_training_window_init (WkpTrainingWindow *self)
{
  GtkWidget *header = gtk_header_bar_new ();
  GtkWidget *add = gtk_button_new_with_mnemonic (_("_Add Log…"));
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget *note = gtk_label_new (NULL);
  GtkWidget *caption = gtk_label_new (_("A dot marks the epoch each network kept: by default the one with the best "
                                        "validation r (wav2kp train --early-stop)."));

  self->sources = g_ptr_array_new_with_free_func (source_free);
  self->cancellable = g_cancellable_new ();
  wkp_studio_add_close_keys (GTK_WINDOW (self));
  self->next_group = 2;
  gtk_window_set_title (GTK_WINDOW (self), _("Training Curves"));
  gtk_window_set_default_size (GTK_WINDOW (self), 760, 560);
  gtk_widget_set_tooltip_text (add, _("Show the curves of another training log (the CSV wav2kp train writes) or model file"));
  g_signal_connect (add, "clicked", G_CALLBACK (on_add_clicked), self);
  gtk_header_bar_pack_start (GTK_HEADER_BAR (header), add);
  gtk_window_set_titlebar (GTK_WINDOW (self), header);

  self->plot = WKP_TRAINING_PLOT (wkp_training_plot_new ());
  gtk_widget_set_vexpand (GTK_WIDGET (self->plot), TRUE);
  gtk_widget_set_hexpand (GTK_WIDGET (self->plot), TRUE);
  self->note = GTK_LABEL (note);
  gtk_label_set_xalign (self->note, 0);
  gtk_label_set_wrap (self->note, TRUE);
  gtk_label_set_selectable (self->note, TRUE);
  gtk_widget_set_margin_start (note, 10);
  gtk_widget_set_margin_end (note, 10);
  gtk_widget_set_margin_bottom (note, 8);
  gtk_widget_add_css_class (note, "dim-label");
  gtk_label_set_xalign (GTK_LABEL (caption), 0);
  gtk_label_set_wrap (GTK_LABEL (caption), TRUE);
  gtk_widget_set_margin_start (caption, 10);
  gtk_widget_set_margin_end (caption, 10);
  gtk_widget_add_css_class (caption, "dim-label");
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->plot));
  gtk_box_append (GTK_BOX (box), caption);
  gtk_box_append (GTK_BOX (box), note);
  gtk_window_set_child (GTK_WINDOW (self), box);
  /* not the note: a selectable label with focus shows a text cursor */
  gtk_window_set_focus (GTK_WINDOW (self), add);
}

WkpTrainingWindow *
wkp_training_window_new (GtkWindow *parent)
{
  WkpTrainingWindow *self = g_object_new (WKP_TYPE_TRAINING_WINDOW, NULL);
  if (parent != NULL)
    {
      gtk_window_set_transient_for (GTK_WINDOW (self), parent);
      gtk_window_set_destroy_with_parent (GTK_WINDOW (self), TRUE);
    }
  return self;
}

gboolean
wkp_training_window_is_loading (WkpTrainingWindow *self)
{
  return self->loading > 0;
}

WkpTrainingPlot *
wkp_training_window_get_plot (WkpTrainingWindow *self)
{
  return self->plot;
}

const char *
wkp_training_window_get_note (WkpTrainingWindow *self)
{
  return gtk_label_get_text (self->note);
}
