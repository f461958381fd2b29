/* wkp-studio-keys.h: keys the studio's secondary windows share. */
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
