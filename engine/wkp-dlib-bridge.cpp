/* placeholder: dlib bridge being written */
