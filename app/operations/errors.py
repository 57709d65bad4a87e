"""What can stop an operator command, in words an operator can act on."""

from app.errors import AppError, Conflict, NotFound


class UnknownAccount(NotFound):
    code = "account_not_found"
    title = "No account has that email"

    def __init__(self, email: str) -> None:
        super().__init__(f"No account has the email {email!r}")


class UnacceptableInput(AppError):
    code = "unacceptable_input"
    status_code = 400
    detail = "Invalid input"


class InvalidImportFile(AppError):
    code = "invalid_import_file"
    title = "The import file is malformed; nothing was imported"
    status_code = 400

    def __init__(self, location: str, problem: str) -> None:
        super().__init__(f"{location}: {problem}; nothing was imported")


class DocumentsAlreadyExist(Conflict):
    code = "documents_already_exist"
    title = "Documents of the import file already exist; nothing was imported"

    def __init__(self, collection: str, count: int, example: str) -> None:
        super().__init__(
            f"{count} document(s) of the file already exist in {collection} (for example "
            f"_id {example}); nothing was imported. Use --replace to overwrite them."
        )


class ForeignExport(Conflict):
    code = "foreign_export"
    title = "The import file comes from another organization; nothing was imported"

    def __init__(self, organization: str, workspaces: int, documents: int) -> None:
        super().__init__(
            f"{documents} document(s) of the file belong to {workspaces} workspace(s) that "
            f"{organization!r} does not have: the file looks like another organization's "
            "export. Nothing was imported; use --force to import it as it is (those documents "
            "keep workspace ids that name no workspace here)."
        )


class ImportInterrupted(AppError):
    code = "import_interrupted"
    title = "An import stopped part way; run it again with --replace"
    status_code = 500

    def __init__(self, collection: str, written: int, reason: str) -> None:
        super().__init__(
            f"The import into {collection} stopped after {written} document(s): {reason}. "
            "Documents written so far stay; run it again with --replace to finish."
        )


class FileUnusable(AppError):
    code = "file_unusable"
    title = "The file cannot be read or written"
    status_code = 400

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
