/* wkp-studio-ui.h: small interface helpers the studio's windows share. */
#pragma once

#include <gtk/gtk.h>

/* Escape and Ctrl+W close @window, as in the file dialogs (the Dataset and
 * Training Curves windows could be closed only with the mouse). */
static inline void
wkp_studio_add_close_keys (GtkWindow *window)
{
  GtkEventController *keys = gtk_shortcut_controller_new ();
  gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (keys),
                                        gtk_shortcut_new (gtk_shortcut_trigger_parse_string ("Escape|<Control>w"),
                                                          gtk_named_action_new ("window.close")));
  gtk_widget_add_controller (GTK_WIDGET (window), keys);
}

/* @drop (a list of strings) as wide as its widest choice, whichever is
 * chosen: the width followed the choice, moving what sits beside it (the
 * header bar's controls at 1.5×, the Dataset window by 130 px). */
static inline void
wkp_studio_fit_drop_down (GtkDropDown *drop)
{
  GListModel *model = gtk_drop_down_get_model (drop);
  guint chosen = gtk_drop_down_get_selected (drop);
  int widest = 0;
  /* each choice measured as shown, then the widest kept */
  for (guint i = 0; model != NULL && i < g_list_model_get_n_items (model); i++)
    {
      int nat = 0;
      gtk_drop_down_set_selected (drop, i);
      gtk_widget_measure (GTK_WIDGET (drop), GTK_ORIENTATION_HORIZONTAL, -1, NULL, &nat, NULL, NULL);
      widest = MAX (widest, nat);
    }
  gtk_drop_down_set_selected (drop, chosen);
  gtk_widget_set_size_request (GTK_WIDGET (drop), widest, -1);
}
