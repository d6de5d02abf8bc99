// Public surface of the blueprint component: how an agent (OpenClaw, Claude Code) is provisioned
// into a cached, read-only layer from the npm registry, and what its sandbox gets (policy,
// environment, read-only files, commands, ports). Shipped blueprints live in blueprints/.
export { BlueprintError, BLUEPRINT_FILES_DIR, blueprintDir, layerId, listBlueprints, loadBlueprint, packagesForPlatform, type Blueprint, type NpmLockfile } from './schema.js';
export { checkLayer, ensureLayersDir, layersDir, listLayers, pruneLayers, MANIFEST_FILE, type Layer, type LayerManifest } from './layers.js';
export { findNpm, layerPath, provision, type ProvisionOptions, type Provisioned } from './provision.js';
export { chatCommand, extractAnswer, portUrl, renderBlueprint, substitute, type RenderValues, type Rendered } from './render.js';
export { blueprintPolicy } from './policy.js';
