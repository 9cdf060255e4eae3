// Modules (entity types) and their fields, read from the modules file and checked when loaded.
import fs from 'node:fs';
import { newAjv } from '../ajv.js';

export const FIELD_TYPES = ['string', 'text', 'email', 'phone', 'url', 'integer', 'decimal', 'boolean', 'date', 'datetime', 'picklist', 'reference'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

/** What a user may do with a module's records; each is granted to roles in the module file. */
export const ACTIONS = ['read', 'create', 'update', 'delete'] as const;
export type Action = (typeof ACTIONS)[number];
export const ROLES = ['admin', 'user'] as const;
export type Role = (typeof ROLES)[number];

export interface FieldDefinition {
  name: string;
  type: FieldType;
  label: string;
  mandatory?: boolean;
  maxlength?: number;
  values?: string[];
  /** Reference fields: the modules whose record ids the field may hold. */
  references?: string[];
  /** Queries filtering on the field use an index (created when the server starts). */
  indexed?: boolean;
}

export interface ModuleDefinition {
  name: string;
  label: string;
  singular: string;
  idPrefix: string;
  labelFields: string[];
  fields: FieldDefinition[];
  /** The roles allowed each action; an action not listed is allowed to every role. */
  access?: Partial<Record<Action, Role[]>>;
}

/** Fields every module has, kept by wsgate rather than by the module file. */
export const SYSTEM_FIELDS = ['id', 'assigned_user_id', 'createdtime', 'modifiedtime'] as const;

const fileSchema = {
  type: 'object',
  required: ['modules'],
  properties: {
    modules: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'idPrefix', 'fields'],
        additionalProperties: false,
        properties: {
          name: { type: 'string', pattern: '^[A-Za-z][A-Za-z0-9_]*$' },
          label: { type: 'string' },
          singular: { type: 'string' },
          idPrefix: { type: 'string', pattern: '^[1-9][0-9]*$' },
          labelFields: { type: 'array', items: { type: 'string' } },
          access: {
            type: 'object',
            additionalProperties: false,
            properties: Object.fromEntries(ACTIONS.map((a) => [a, { type: 'array', items: { enum: ROLES }, uniqueItems: true }])),
          },
          fields: {
            type: 'array',
            items: {
              type: 'object',
              required: ['name', 'type'],
              additionalProperties: false,
              properties: {
                name: { type: 'string', pattern: '^[a-z][a-z0-9_]*$' },
                type: { enum: FIELD_TYPES },
                label: { type: 'string' },
                mandatory: { type: 'boolean' },
                maxlength: { type: 'integer', minimum: 1 },
                values: { type: 'array', items: { type: 'string' }, minItems: 1 },
                references: { type: 'array', items: { type: 'string' }, minItems: 1 },
                indexed: { type: 'boolean' },
              },
            },
          },
        },
      },
    },
  },
};

export class ModuleRegistry {
  private readonly byName = new Map<string, ModuleDefinition>();
  private readonly byPrefix = new Map<string, ModuleDefinition>();

  constructor(readonly modules: ModuleDefinition[]) {
    for (const m of modules) {
      if (this.byName.has(m.name)) throw new Error(`module ${m.name} is declared twice`);
      if (this.byPrefix.has(m.idPrefix) || m.idPrefix === '19') {
        throw new Error(`module ${m.name}: id prefix ${m.idPrefix} is taken (19 is Users)`);
      }
      const names = new Set<string>();
      for (const f of m.fields) {
        if (names.has(f.name) || (SYSTEM_FIELDS as readonly string[]).includes(f.name)) {
          throw new Error(`module ${m.name}: field ${f.name} is declared twice or is a system field`);
        }
        if (f.type === 'picklist' && !f.values) throw new Error(`module ${m.name}: picklist ${f.name} needs values`);
        if ((f.type === 'reference') !== !!f.references)
          throw new Error(`module ${m.name}: field ${f.name}: references go with type reference, and only with it`);
        names.add(f.name);
      }
      for (const lf of m.labelFields) if (!names.has(lf)) throw new Error(`module ${m.name}: label field ${lf} is not a field`);
      this.byName.set(m.name, m);
      this.byPrefix.set(m.idPrefix, m);
    }
    for (const m of modules) {
      for (const f of m.fields) {
        for (const target of f.references ?? []) {
          if (!this.byName.has(target)) throw new Error(`module ${m.name}: field ${f.name} references ${target}, which is not a module`);
        }
      }
    }
  }

  get(name: string): ModuleDefinition | undefined {
    return this.byName.get(name);
  }

  byIdPrefix(prefix: string): ModuleDefinition | undefined {
    return this.byPrefix.get(prefix);
  }

  /** The module of that name in any case: VTQL's `from contacts` (coreBOS looks modules up in MySQL). */
  find(name: string): ModuleDefinition | undefined {
    const wanted = name.toLowerCase();
    return this.byName.get(name) ?? this.modules.find((m) => m.name.toLowerCase() === wanted);
  }
}

export function loadModules(file: string): ModuleRegistry {
  const parsed: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
  const validate = newAjv({ allErrors: true }).compile(fileSchema);
  if (!validate(parsed)) {
    throw new Error(`${file}: ${validate.errors!.map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ')}`);
  }
  const raw = (parsed as { modules: (Omit<ModuleDefinition, 'label' | 'singular' | 'labelFields'> & Partial<ModuleDefinition>)[] }).modules;
  return new ModuleRegistry(
    raw.map((m) => ({
      ...m,
      label: m.label ?? m.name,
      singular: m.singular ?? m.name,
      labelFields: m.labelFields ?? [m.fields[0]?.name].filter((x): x is string => !!x),
      fields: m.fields.map((f) => ({ ...f, label: f.label ?? f.name })),
    })),
  );
}
