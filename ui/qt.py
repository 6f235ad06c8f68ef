"""The one place Qt is imported from. Screens import Qt names from here, never from PySide6."""

from PySide6.QtCore import (QAbstractListModel, QAbstractTableModel, QDate, QEvent,  # noqa: F401
                            QElapsedTimer, QLibraryInfo, QLocale, QModelIndex, QObject, QPoint,
                            QPointF, QRect, QSettings, QSize, QStandardPaths, Qt, QThread,
                            QTimer, QTranslator, Signal, Slot)
from PySide6.QtGui import (QAction, QBrush, QColor, QFont, QFontDatabase, QFontMetrics,  # noqa: F401
                           QGuiApplication, QImage, QPixmap, QStaticText,
                           QIcon, QIntValidator, QKeyEvent, QKeySequence, QPainter, QPalette,
                           QPen, QShortcut, QWheelEvent)
from PySide6.QtWidgets import QMenu  # noqa: F401
from PySide6.QtWidgets import (QAbstractItemView, QAbstractScrollArea,  # noqa: F401
                               QAbstractSpinBox, QApplication, QButtonGroup,
                               QCheckBox, QComboBox, QDateEdit, QDialog, QDialogButtonBox,
                               QFileDialog, QFormLayout, QFrame, QGridLayout, QGroupBox,
                               QHBoxLayout, QHeaderView, QInputDialog, QLabel, QLineEdit,
                               QListView, QMainWindow, QMessageBox, QPushButton, QScrollArea,
                               QSizePolicy, QSpinBox, QSplitter, QStackedWidget, QStatusBar,
                               QStyle, QStyledItemDelegate, QStyleOptionViewItem, QTableWidget,
                               QTableView, QTableWidgetItem, QTabWidget, QTextEdit, QVBoxLayout,
                               QWidget)
