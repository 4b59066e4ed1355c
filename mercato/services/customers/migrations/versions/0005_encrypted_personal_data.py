"""customers: personal data encrypted at rest (names, e-mail, phones, addresses, audit details, events
in the outbox); blind indexes for the e-mail (unique, sign-in) and the name (support search); staff TOTP
secrets move from their own Fernet key to the same data keys

The data step encrypts existing rows with the keys of the customers' settings (MERCATO_CUSTOMERS_DATA_KEYS
or the key file; `mercato migrate` runs with them), and only when there are rows. On SQLite, run VACUUM
afterwards so that pages which held the values in clear are dropped (docs/security.md).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 16:45:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from mercato.platform.crypto import Encrypted, EncryptedJSON
from mercato.platform.keyrotation import EncryptedTable, encrypt_in_migration, kernel_tables


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ADDRESS_FIELDS = ('name', 'line1', 'line2', 'city', 'postal_code', 'region', 'phone')


def _keys():
    from mercato.services.customers.settings import CustomersSettings

    return CustomersSettings().keys()


def _indexes(bind):
    from mercato.contracts.emails import normalise_email
    from mercato.services.customers.models import email_index, name_index, unmerged_email_index

    def derive(values):
        email = values['email']
        # After 0004 every address is in its normal form but those it left unmerged (another account
        # has the normal form): they are indexed as stored, and keep out of the other's way.
        unmerged = normalise_email(email) != email
        return {
            'email_index': (unmerged_email_index if unmerged else email_index)(bind, email),
            'name_index': name_index(bind, values['name']),
        }

    return derive


def _staff_totp_secrets(bind) -> None:
    """TOTP secrets were Fernet tokens under their own key (STAFF_TOTP_KEY[_FILE], previous keys too):
    re-encrypted under the data keys, as every other secret of this database."""
    staff = sa.table('staff', sa.column('id', sa.String), sa.column('totp_secret', sa.Text))
    challenges = sa.table(
        'staff_challenges', sa.column('id', sa.String), sa.column('pending_totp_secret', sa.Text)
    )
    rows = [
        (staff, staff.c.totp_secret, row)
        for row in bind.execute(sa.select(staff.c.id, staff.c.totp_secret).where(staff.c.totp_secret.isnot(None)))
    ] + [
        (challenges, challenges.c.pending_totp_secret, row)
        for row in bind.execute(
            sa.select(challenges.c.id, challenges.c.pending_totp_secret).where(
                challenges.c.pending_totp_secret.isnot(None)
            )
        )
    ]
    if not rows:
        return
    from cryptography.fernet import Fernet, MultiFernet

    from mercato.services.customers.settings import CustomersSettings

    settings = CustomersSettings()
    if settings.staff_totp_key is not None:
        current = settings.staff_totp_key.get_secret_value().encode()
    else:
        current = settings.staff_totp_key_file.read_bytes().strip()
    fernet = MultiFernet(
        [Fernet(current), *(Fernet(k.get_secret_value().encode()) for k in settings.staff_totp_previous_keys)]
    )
    keyring = settings.keys().keyring
    for table, column, (row_id, token) in rows:
        secret = fernet.decrypt(token.encode())
        bind.execute(table.update().where(table.c.id == row_id).values({column.name: keyring.encrypt(secret)}))


def upgrade() -> None:
    bind = op.get_bind()
    postgres = bind.dialect.name == 'postgresql'
    with op.batch_alter_table(
        'customers', naming_convention={'uq': 'uq_%(table_name)s_%(column_0_name)s'}
    ) as batch_op:
        batch_op.drop_constraint('customers_email_key' if postgres else 'uq_customers_email', type_='unique')
        batch_op.add_column(sa.Column('email_index', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('name_index', sa.String(length=64), nullable=True))
        for column in ('email', 'name', 'phone'):
            batch_op.alter_column(column, type_=sa.Text())
    with op.batch_alter_table('addresses') as batch_op:
        for column in ADDRESS_FIELDS:
            batch_op.alter_column(column, type_=sa.Text())
    with op.batch_alter_table('staff') as batch_op:
        batch_op.alter_column('totp_secret', type_=sa.Text())
    with op.batch_alter_table('staff_challenges') as batch_op:
        batch_op.alter_column('pending_totp_secret', type_=sa.Text())
    _staff_totp_secrets(bind)

    meta = sa.MetaData()
    customers = sa.Table(
        'customers', meta,
        sa.Column('id', sa.String(40), primary_key=True),
        sa.Column('email', Encrypted()), sa.Column('name', Encrypted()), sa.Column('phone', Encrypted()),
        sa.Column('email_index', sa.String(64)), sa.Column('name_index', sa.String(64)),
    )
    addresses = sa.Table(
        'addresses', meta, sa.Column('id', sa.String(40), primary_key=True),
        *(sa.Column(name, Encrypted()) for name in ADDRESS_FIELDS),
    )
    audit = sa.Table('audit_log', meta, sa.Column('id', sa.String(36), primary_key=True),
                     sa.Column('details', EncryptedJSON()))
    encrypt_in_migration(
        bind,
        [
            EncryptedTable(customers, [customers.c.email, customers.c.name, customers.c.phone]),
            EncryptedTable(addresses, [addresses.c[name] for name in ADDRESS_FIELDS]),
            EncryptedTable(audit, [audit.c.details]),
            *kernel_tables(),
        ],
        _keys,
        derive={'customers': _indexes(bind)},
    )

    with op.batch_alter_table('customers') as batch_op:
        batch_op.alter_column('email_index', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('name_index', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint('uq_customers_email_index', ['email_index'])
        batch_op.create_index('ix_customers_name_index', ['name_index'], unique=False)


def downgrade() -> None:
    raise NotImplementedError('personal data stays encrypted: restore a backup to go back')
