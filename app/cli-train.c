/* wav2kp train DATASET -o MODEL [options]: trains the speech-to-keypoints
 * model on a prepared dataset (wav2kp prepare), writing the best checkpoint
 * to MODEL atomically, MODEL.ckpt after every epoch and a CSV log. */
#include "wkp-cli.h"
#include "wkp-dataset.h"
#include "wkp-io.h"
#include "wkp-train.h"

#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

typedef struct {
  WkpCliProgress *bar;
  gboolean tty;
  gboolean constant_said;
  GCancellable *cancel;
} TrainUi;

/* Ctrl+C (or SIGTERM, SIGHUP) during training: the first one stops the run
 * at the next step, between writes, so that the model and the checkpoint of
 * the last finished epoch stand and the lock goes; a second one kills as
 * every command is killed (temporary files removed). It used to kill at once,
 * with no word of --resume and the lock file left behind. */
static volatile sig_atomic_t train_signal = 0;

static void
on_train_signal (int sig)
{
  train_signal = sig;
  wkp_io_remove_temps_on_signal ();   /* (sigaction: async-signal-safe) */
}

static void
check_train_signal (TrainUi *ui)
{
  if (train_signal != 0 && !g_cancellable_is_cancelled (ui->cancel))
    g_cancellable_cancel (ui->cancel);
}

static void
on_epoch (const WkpTrainEpoch *e, gpointer user_data)
{
  TrainUi *ui = user_data;
  int eta = (int) (e->eta_s + 0.5);
  check_train_signal (ui);
  if (ui->tty)
    g_printerr ("\r\033[K");
  if (!ui->constant_said && isfinite (e->val_loss_constant))
    g_printerr ("a constant prediction (the PCA mean: with identity removal each speaker's mean mouth) has val loss %.4f\n",
                e->val_loss_constant);
  ui->constant_said = TRUE;
  if (isfinite (e->val_loss))
    g_printerr ("epoch %3d/%d  train %.4f  val %.4f  val r %+.3f  lr %.2e  %.0f win/s  %.1fs  ETA %dm%02ds%s\n",
                e->epoch, e->max_epochs, e->train_loss, e->val_loss, e->val_r, e->lr, e->samples_per_s, e->seconds,
                eta / 60, eta % 60, e->best ? "  *best" : "");
  else   /* no val clips: nothing validated ("val nan  val r +nan" said nothing) */
    g_printerr ("epoch %3d/%d  train %.4f  (no val clips)  lr %.2e  %.0f win/s  %.1fs  ETA %dm%02ds\n",
                e->epoch, e->max_epochs, e->train_loss, e->lr, e->samples_per_s, e->seconds, eta / 60, eta % 60);
}

static void
on_progress (gint64 done, gint64 total, const char *what, gpointer user_data)
{
  TrainUi *ui = user_data;
  check_train_signal (ui);
  wkp_cli_progress_update (done, total, what, ui->bar);
}

int
wkp_cli_train (int argc, char **argv)
{
  g_autofree char *output = NULL, *log = NULL, *ckpt = NULL, *early = NULL, *schedule = NULL, *val_spk = NULL;
  g_auto(GStrv) files = NULL;
  gboolean resume = FALSE, full_face = FALSE, no_identity = FALSE, no_clip_norm = FALSE, no_whiten = FALSE;
  gboolean bidirectional = FALSE, unweighted = FALSE, merge_val = FALSE, overwrite = FALSE;
  gint64 seed;
  WkpTrainParams p;
  GError *error = NULL;

  wkp_train_params_init_default (&p);
  seed = (gint64) p.seed;
  g_autoptr(GOptionContext) ctx = g_option_context_new ("-o MODEL — train the speech-to-keypoints model");
  GOptionEntry entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Model file to write (.wkpm); the best epoch is kept", "MODEL" },
    { "resume", 0, 0, G_OPTION_ARG_NONE, &resume, "Continue an interrupted run from its checkpoint (same options)", NULL },
    { "overwrite", 0, 0, G_OPTION_ARG_NONE, &overwrite, "Replace an existing MODEL (refused without it: the run writes its best epoch there as it goes)", NULL },
    { "checkpoint", 0, 0, G_OPTION_ARG_FILENAME, &ckpt, "Checkpoint path (default MODEL.ckpt)", "PATH" },
    { "log", 0, 0, G_OPTION_ARG_FILENAME, &log, "CSV log of every epoch (default: MODEL with .csv for its extension)", "CSV" },
    { "epochs", 0, 0, G_OPTION_ARG_INT, &p.max_epochs, "Maximum epochs (40)", "N" },
    { "steps-per-epoch", 0, 0, G_OPTION_ARG_INT, &p.steps_per_epoch, "Minibatches per epoch (20; 0: train frames / (batch x window))", "N" },
    { "patience", 0, 0, G_OPTION_ARG_INT, &p.patience, "Early stopping: epochs without improvement (8; 0 = off)", "N" },
    { "early-stop", 0, 0, G_OPTION_ARG_STRING, &early, "Validation metric: aperture (Pearson r, default) or loss", "METRIC" },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, "Random seed (1)", "N" },
    { "threads", 0, 0, G_OPTION_ARG_INT, &p.n_threads, "OpenBLAS threads (1)", "N" },
    { "hidden", 0, 0, G_OPTION_ARG_INT, &p.hidden_size, "LSTM hidden units (64)", "N" },
    { "layers", 0, 0, G_OPTION_ARG_INT, &p.num_layers, "LSTM layers (1)", "N" },
    { "bidirectional", 0, 0, G_OPTION_ARG_NONE, &bidirectional, "Bidirectional LSTM (offline use only)", NULL },
    { "components", 0, 0, G_OPTION_ARG_INT, &p.n_components, "PCA components (10; 0: by --explained)", "N" },
    { "explained", 0, 0, G_OPTION_ARG_DOUBLE, &p.pca_min_explained, "Explained variance when --components 0 (0.95)", "F" },
    { "full-face", 0, 0, G_OPTION_ARG_NONE, &full_face, "Predict all 68 points, not only the mouth", NULL },
    { "no-whiten", 0, 0, G_OPTION_ARG_NONE, &no_whiten, "Do not whiten PCA coefficients", NULL },
    { "no-identity-removal", 0, 0, G_OPTION_ARG_NONE, &no_identity, "Train on raw shapes, not deviations from each speaker's mean", NULL },
    { "identity-rest", 0, 0, G_OPTION_ARG_DOUBLE, &p.identity_rest, "Identity removal: a speaker's reference is its rest pose, the mean of its frames with the mouth at most this closed (aperture quantile, e.g. 0.2; 0: its mean shape)", "Q" },
    { "align-train", 0, 0, G_OPTION_ARG_NONE, &p.align_train, "Shift the audio of the clips trained on that are flagged with an A/V offset by its estimate (validation and test clips stay as they are)", NULL },
    { "no-clip-norm", 0, 0, G_OPTION_ARG_NONE, &no_clip_norm, "No per-clip feature standardisation", NULL },
    { "context", 0, 0, G_OPTION_ARG_INT, &p.context, "Feature frames each side of a step (2)", "N" },
    { "delay", 0, 0, G_OPTION_ARG_INT, &p.delay, "Look-ahead steps (2)", "N" },
    { "batch", 0, 0, G_OPTION_ARG_INT, &p.batch_size, "Windows per minibatch (32)", "N" },
    { "window", 0, 0, G_OPTION_ARG_INT, &p.window, "Steps per window (64)", "N" },
    { "warmup", 0, 0, G_OPTION_ARG_INT, &p.warmup, "Steps of a mid-clip window left out of the loss (8)", "N" },
    { "lr", 0, 0, G_OPTION_ARG_DOUBLE, &p.lr, "Learning rate (1e-3)", "LR" },
    { "lr-min", 0, 0, G_OPTION_ARG_DOUBLE, &p.lr_min, "Final learning rate of the cosine schedule (1e-4)", "LR" },
    { "lr-warmup", 0, 0, G_OPTION_ARG_INT, &p.lr_warmup_steps, "Linear warm-up steps (100; at most a quarter of the run)", "N" },
    { "schedule", 0, 0, G_OPTION_ARG_STRING, &schedule, "cosine (default) or constant", "NAME" },
    { "weight-decay", 0, 0, G_OPTION_ARG_DOUBLE, &p.weight_decay, "Decoupled weight decay (1e-4)", "F" },
    { "clip", 0, 0, G_OPTION_ARG_DOUBLE, &p.clip_norm, "Gradient-norm clip, 0 = off (1.0)", "F" },
    { "ema", 0, 0, G_OPTION_ARG_DOUBLE, &p.ema_decay, "Validate and save a moving average of the weights with this decay per step (0 = off)", "D" },
    { "velocity", 0, 0, G_OPTION_ARG_DOUBLE, &p.velocity_weight, "Weight of the velocity loss term (0.5)", "F" },
    { "unweighted", 0, 0, G_OPTION_ARG_NONE, &unweighted, "Do not weight components by their variance in the loss", NULL },
    { "speaker-balance", 0, 0, G_OPTION_ARG_DOUBLE, &p.speaker_balance, "Speaker sampling weight = frames^X (0: equal, 1: natural; 0.5)", "X" },
    { "noise", 0, 0, G_OPTION_ARG_DOUBLE, &p.aug_noise, "Augmentation: feature noise std (0.1)", "F" },
    { "gain", 0, 0, G_OPTION_ARG_DOUBLE, &p.aug_gain, "Augmentation: energy offset std (0.3)", "F" },
    { "shift", 0, 0, G_OPTION_ARG_INT, &p.aug_shift, "Augmentation: max audio shift in frames (1)", "N" },
    { "dropout", 0, 0, G_OPTION_ARG_DOUBLE, &p.aug_dropout, "Augmentation: input dropout probability (0.2)", "P" },
    { "warp", 0, 0, G_OPTION_ARG_DOUBLE, &p.aug_warp, "Augmentation: frequency warp (VTLP) of ±W and ±W/2 (0: off)", "W" },
    { "val-speakers", 0, 0, G_OPTION_ARG_STRING, &val_spk, "Comma-separated train speakers moved to val (model selection)", "A,B" },
    { "merge-val", 0, 0, G_OPTION_ARG_NONE, &merge_val, "Train on train + val without validation, keeping the last epoch (use the epoch count of a validated run)", NULL },
    { "stop-after", 0, 0, G_OPTION_ARG_INT, &p.stop_after, "Stop after this epoch as if interrupted (for --resume)", "N" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &files, NULL, "DATASET" },
    { NULL }
  };
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_description (ctx,
    "DATASET is a folder made by `wav2kp prepare`; its speaker-independent train/val\n"
    "splits are used (test speakers are never seen; their aperture r is recorded in the\n"
    "model's metrics at the end). Progress on a terminal; one line per epoch on stderr.");
  if (!wkp_cli_parse (ctx, "train", &argc, &argv))
    return WKP_EXIT_BAD_INPUT;
  if (files == NULL || files[0] == NULL || files[1] != NULL)
    {
      g_printerr ("wav2kp train: give exactly one DATASET folder\n");
      return WKP_EXIT_BAD_INPUT;
    }
  if (output == NULL)
    {
      g_printerr ("wav2kp train: give the output with -o MODEL.wkpm\n");
      return WKP_EXIT_BAD_INPUT;
    }
  if (!wkp_cli_check_suffix ("train", output, "a model file", ".wkpm")
      || (log != NULL && !wkp_cli_check_suffix ("train", log, "a CSV log", ".csv"))
      || (ckpt != NULL && !wkp_cli_check_suffix ("train", ckpt, "a training checkpoint", ".ckpt")))
    return WKP_EXIT_BAD_INPUT;
  /* a log or checkpoint named by hand that exists is another file (a
   * manifest given as --log, a model as --checkpoint, were replaced with exit
   * 0): as for MODEL, only --overwrite or --resume writes over it */
  {
    const char *named[2] = { log, ckpt }, *what[2] = { "--log", "--checkpoint" };
    for (int i = 0; i < 2; i++)
      if (named[i] != NULL && !resume && !overwrite && g_file_test (named[i], G_FILE_TEST_EXISTS))
        {
          g_printerr ("wav2kp train: %s (%s) exists; a new run would replace it: choose another name, give "
                      "--overwrite to replace it, or --resume to continue the run it belongs to\n", named[i], what[i]);
          return WKP_EXIT_BAD_INPUT;
        }
  }
  /* the best epoch is written to MODEL as the run goes (so that an
   * interrupted run leaves the best model so far, and --resume goes on), so
   * a new run to an existing MODEL replaces it from its first epoch: a run
   * stopped early then left a worse model where a finished one was */
  if (!resume && !overwrite && g_file_test (output, G_FILE_TEST_EXISTS))
    {
      g_printerr ("wav2kp train: %s exists; a new run would replace it (and its log and checkpoint) from its first "
                  "epoch on, before it knows whether it will be better: choose another -o, give --overwrite to "
                  "replace it, or --resume to continue its run\n", output);
      return WKP_EXIT_BAD_INPUT;
    }
  if (early != NULL && g_strcmp0 (early, "loss") != 0 && g_strcmp0 (early, "aperture") != 0)
    {
      g_printerr ("wav2kp train: --early-stop must be aperture or loss, not “%s”\n", early);
      return WKP_EXIT_BAD_INPUT;
    }
  if (schedule != NULL && g_strcmp0 (schedule, "cosine") != 0 && g_strcmp0 (schedule, "constant") != 0)
    {
      g_printerr ("wav2kp train: --schedule must be cosine or constant, not “%s”\n", schedule);
      return WKP_EXIT_BAD_INPUT;
    }
  if (seed < 0)
    {
      g_printerr ("wav2kp train: --seed must be >= 0\n");
      return WKP_EXIT_BAD_INPUT;
    }
  if (val_spk != NULL && *g_strstrip (val_spk) == '\0')
    {
      g_printerr ("wav2kp train: --val-speakers needs speaker names\n");
      return WKP_EXIT_BAD_INPUT;
    }
  p.seed = (guint64) seed;
  p.early_stop = g_strcmp0 (early, "loss") == 0 ? WKP_EARLY_STOP_LOSS : WKP_EARLY_STOP_APERTURE;
  p.schedule = g_strcmp0 (schedule, "constant") == 0 ? WKP_LR_CONSTANT : WKP_LR_COSINE;
  p.mouth_only = !full_face;
  p.whiten = !no_whiten;
  p.identity_removal = !no_identity;
  p.per_clip_norm = !no_clip_norm;
  p.bidirectional = bidirectional;
  p.variance_weighted = !unweighted;
  p.merge_val = merge_val;
  g_auto(GStrv) val_list = val_spk ? g_strsplit (val_spk, ",", -1) : NULL;
  for (int i = 0; val_list != NULL && val_list[i] != NULL; i++)
    g_strstrip (val_list[i]);
  p.val_speakers = val_list;

  g_autofree char *log_path = log ? g_strdup (log) : wkp_path_replace_ext (output, ".csv");
  g_autofree char *ckpt_path = ckpt ? g_strdup (ckpt) : g_strconcat (output, ".ckpt", NULL);
  if (!wkp_check_output_path (output, &error) || !wkp_check_output_path (log_path, &error)
      || !wkp_check_output_path (ckpt_path, &error))
    return wkp_cli_fail ("train", error);
  /* a log or checkpoint named after the model replaces only an earlier run's
   * (-o clips.wkpm replaced clips.csv, the dataset's manifest); --resume
   * continues from them by design */
  if (!resume && ((log == NULL && !wkp_check_side_output (log_path, output, &error))
                  || (ckpt == NULL && !wkp_check_side_output (ckpt_path, output, &error))))
    return wkp_cli_fail ("train", error);
  /* three outputs, three files (-o M --log M lost the log) */
  {
    g_autofree char *a = g_canonicalize_filename (output, NULL), *b = g_canonicalize_filename (log_path, NULL);
    g_autofree char *c = g_canonicalize_filename (ckpt_path, NULL);
    if (g_str_equal (a, b) || g_str_equal (a, c) || g_str_equal (b, c))
      return wkp_cli_fail ("train", g_error_new (WKP_IO_ERROR, WKP_ERROR_INVALID,
                                                 "%s: the model (-o), the log (--log, %s) and the checkpoint "
                                                 "(--checkpoint, %s) must be three different files",
                                                 output, log_path, ckpt_path));
  }

  /* train rewrites its own checkpoint and log (--resume), so the run as a
   * whole does not track inputs; the dataset's files are tracked while they
   * are read, and no output may replace one of them (-o, --log or
   * --checkpoint naming DS/dataset.json or a clip's features.npy wrecked the
   * dataset, exit 0) */
  wkp_io_track_inputs (TRUE);
  g_autoptr(WkpDataset) ds = wkp_dataset_open (files[0], &error);
  if (ds == NULL)
    return wkp_cli_fail ("train", error);
  g_autoptr(WkpTrainData) data = wkp_train_data_from_dataset (ds, &error);
  if (data == NULL)
    return wkp_cli_fail ("train", error);
  if (!wkp_check_output_path (output, &error) || !wkp_check_output_path (log_path, &error)
      || !wkp_check_output_path (ckpt_path, &error))
    return wkp_cli_fail ("train", error);
  wkp_io_track_inputs (FALSE);
  /* nor is anything written into the dataset's folder (its mean and
   * landmark files are not read by training, but belong to it) */
  {
    g_autofree char *ds_real = realpath (wkp_dataset_get_dir (ds), NULL);
    const char *outs[3] = { output, log_path, ckpt_path };
    for (int i = 0; i < 3 && ds_real != NULL; i++)
      {
        g_autofree char *dir = g_path_get_dirname (outs[i]);
        g_autofree char *dir_real = realpath (dir, NULL);
        gsize n = strlen (ds_real);
        if (dir_real != NULL && strncmp (dir_real, ds_real, n) == 0 && (dir_real[n] == '\0' || dir_real[n] == '/'))
          return wkp_cli_fail ("train", g_error_new (WKP_IO_ERROR, WKP_ERROR_INVALID,
                                                     "Cannot write %s: it is inside the dataset %s, which training "
                                                     "reads; write the model elsewhere", outs[i], files[0]));
      }
  }
  /* a small corpus may have no val split at all (prepare holds speakers out
   * only when three or more can be): say what that means before training */
  if (!merge_val && (val_list == NULL || val_list[0] == NULL))
    {
      g_autoptr(GArray) val = wkp_dataset_split_indices (ds, WKP_SPLIT_VAL);
      if (val->len == 0)
        g_printerr ("wav2kp train: note: %s has no val clips, so nothing is validated and the last epoch (of "
                    "--epochs %d) is kept; --val-speakers A,B holds speakers out for early stopping\n",
                    files[0], p.max_epochs);
    }

  /* one run per MODEL at a time: two runs to the same -o both wrote it and
   * both reported success, the file holding the later one's model */
  g_autofree char *out_dir = g_path_get_dirname (output), *out_base = g_path_get_basename (output);
  g_autofree char *lock_path = g_strdup_printf ("%s/.%s.lock", out_dir, out_base);
  int lock_fd = open (lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd < 0 || flock (lock_fd, LOCK_EX | LOCK_NB) != 0)
    {
      int err = errno;
      if (lock_fd >= 0)
        close (lock_fd);
      return wkp_cli_fail ("train", g_error_new (WKP_IO_ERROR, WKP_ERROR_IO, "%s: %s", output,
                                                 lock_fd < 0 ? g_strerror (err)
                                                             : "another “wav2kp train” is writing this model"));
    }

  g_autoptr(GCancellable) cancel = g_cancellable_new ();
  TrainUi ui = { wkp_cli_progress_new ("train"), isatty (STDERR_FILENO) && g_getenv ("WKP_NO_PROGRESS") == NULL,
                 FALSE, cancel };
  WkpTrainResult res;
  wkp_io_on_stop_signals (on_train_signal);
  gboolean ok = wkp_train_run (data, &p, output, ckpt, log_path, resume, on_progress, on_epoch, &ui, cancel, &res,
                               &error);
  wkp_io_remove_temps_on_signal ();
  wkp_cli_progress_free (ui.bar);
  unlink (lock_path);   /* (while still holding it: a run waiting for it finds none) */
  close (lock_fd);
  if (!ok && train_signal != 0 && g_error_matches (error, WKP_IO_ERROR, WKP_ERROR_CANCELLED))
    {
      const char *how = train_signal == SIGINT ? "Ctrl+C" : train_signal == SIGTERM ? "SIGTERM" : "SIGHUP";
      g_clear_error (&error);
      if (res.epochs_run == 0)
        g_printerr ("\nwav2kp train: stopped by %s in epoch 1, before any epoch finished: nothing was written\n", how);
      else if (res.best_epoch > 0)
        g_printerr ("\nwav2kp train: stopped by %s in epoch %d; %s holds epoch %d (the best so far) and %s epoch %d: "
                    "continue with the same command and --resume\n", how, res.epochs_run + 1, output,
                    res.best_epoch, ckpt_path, res.epochs_run);
      else
        g_printerr ("\nwav2kp train: stopped by %s in epoch %d; %s holds epoch %d: continue with the same command "
                    "and --resume\n", how, res.epochs_run + 1, ckpt_path, res.epochs_run);
      return 128 + train_signal;
    }
  if (!ok)
    return wkp_cli_fail ("train", error);
  if (res.interrupted)
    g_print ("stopped after epoch %d as asked; continue with --resume\n", res.epochs_run);
  else
    {
      g_autofree char *val = isfinite (res.best_val_loss)
                             ? g_strdup_printf ("val aperture r %.3f, val loss %.4f (a constant prediction: %.4f)",
                                                res.best_val_r, res.best_val_loss, res.val_loss_constant)
                             : g_strdup ("not validated (no val clips)");
      g_autofree char *test = isfinite (res.test_r) ? g_strdup_printf ("test aperture r %.3f", res.test_r)
                                                    : g_strdup ("no test clips scored");
      g_print ("best epoch %d of %d: %s; %s%s; %.0f s\n", res.best_epoch, res.epochs_run, val, test,
               res.stopped_early ? " (stopped early)" : "", res.seconds);
      /* (chosen by --explained, it was never said) */
      g_print ("PCA: %d components, %.1f %% of the landmarks' variance\n", res.n_components, 100.0 * res.explained);
    }
  g_print ("model: %s\nlog: %s\n", output, log_path);
  return WKP_EXIT_OK;
}
