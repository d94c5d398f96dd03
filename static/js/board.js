// board.js: drag and drop, selection, menus and dialogs of the board page.
