"""Import every model module so Base.metadata is complete (Alembic, tests)."""

from app.audit import models as audit_models  # noqa: F401
from app.cases import models as case_models  # noqa: F401
from app.db import Base
from app.devtools import models as devtools_models  # noqa: F401
from app.documentation import models as documentation_models  # noqa: F401
from app.exports import models as export_models  # noqa: F401
from app.fees import models as fee_models  # noqa: F401
from app.instances import models as instance_models  # noqa: F401
from app.log_review import models as log_review_models  # noqa: F401
from app.notifications import models as notification_models  # noqa: F401
from app.patients import models as patient_models  # noqa: F401
from app.people import models as people_models  # noqa: F401
from app.phrases import models as phrase_models  # noqa: F401
from app.process_models import models as process_model_models  # noqa: F401

metadata = Base.metadata
